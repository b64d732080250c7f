export const meta = { name: 'timers', description: 'setTimeout/clearTimeout run on the virtual clock' }
const order = []
await new Promise((resolve) => {
  setTimeout(() => { order.push('b'); resolve() }, 2000)
  setTimeout(() => order.push('a'), 1000)
  const id = setTimeout(() => order.push('cancelled'), 500)
  clearTimeout(id)
})
console.log('console goes to the log', { n: 1 })
return order
