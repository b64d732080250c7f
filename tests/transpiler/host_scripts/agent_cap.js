export const meta = { name: 'agent-cap', description: 'the 1,000-agent lifetime cap' }
const slots = await parallel(Array.from({ length: 1001 }, (_, i) => () => agent(`task ${i}`, { label: `task ${i}` })))
let topLevel = null
try {
  await agent('one too many', { label: 'extra' })
} catch (e) {
  topLevel = `${e.name}: ${e.message}`
}
return { answered: slots.filter((s) => s !== null).length, lastSlot: slots[1000], topLevel }
