export const meta = { name: 'budget-guard', description: 'budget.spent() counts fake output tokens; an exhausted budget makes agent() throw' }
const start = { total: budget.total, spent: budget.spent(), unlimited: budget.remaining() === Infinity, frozen: Object.isFrozen(budget) }
const spent = []
let stopped = null
for (let i = 0; i < 20; i++) {
  try {
    await agent('x', { label: `b ${i}` })
    spent.push(budget.spent())
  } catch (e) {
    stopped = `${e.name}: ${e.message}`
    break
  }
}
const slots = await parallel([() => agent('y', { label: 'late' })])
return { start, spent, stopped, slots, remaining: budget.remaining() }
