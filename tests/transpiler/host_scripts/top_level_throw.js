export const meta = { name: 'top-level-throw', description: 'a failing top-level agent rejects, and an uncaught rejection fails the run' }
phase('Only')
const fine = await agent('fine', { label: 'fine' })
log(`got ${fine}`)
await agent('doomed', { label: 'bad one' })
return 'unreachable'
