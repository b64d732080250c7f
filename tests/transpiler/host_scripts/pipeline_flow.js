export const meta = { name: 'pipeline-flow', description: 'pipeline(): no barrier, a null ends the item, undefined does not' }
const firstPrev = []
const out = await pipeline(['a', 'b', 'c', 'd', null],
  (prev, item, i) => {
    firstPrev.push([i, prev === item])
    if (item === 'b') return null
    if (item === 'c') throw new Error('stage blew up')
    return agent(`s1 ${item}`, { label: `s1 ${item}`, phase: 'One' })
  },
  (prev, item) => agent(`s2 ${item} after ${prev}`, { label: `s2 ${item}`, phase: 'Two' }),
  (prev, item) => (item === 'd' ? undefined : prev),
  (prev) => (prev === undefined ? 'undefined reached stage 4' : prev),
)
return { out, firstPrev }
