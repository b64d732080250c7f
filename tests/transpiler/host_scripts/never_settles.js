export const meta = { name: 'never-settles', description: 'waits forever' }
await new Promise(() => {})
return 'unreachable'
