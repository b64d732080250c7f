export const meta = { name: 'parallel-barrier', description: 'parallel() is a barrier; a failed thunk is a null slot' }
// slow/fast latencies come from the fake file; the agent after the barrier must start
// only when the slowest thunk is done.
const first = await parallel([
  () => agent('slow work', { label: 'slow 0' }),
  () => agent('fast work', { label: 'fast 1' }),
  () => { throw new Error('thunk exploded') },
  () => agent('doomed', { label: 'bad 3' }),
  () => 42,
  () => parallel([() => agent('inner work', { label: 'fast inner' })]),
])
const after = await agent('after the barrier', { label: 'after' })
return { first, after, isRealmArray: first instanceof Array }
