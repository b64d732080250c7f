export const meta = { name: 'workflow-child', description: 'a child workflow' }
phase('ignored in a child')
log('child running')
const r = await agent(`child task ${args.n}`, { label: `child ${args.n}` })
let nested = null
try {
  await workflow('workflow_child', { n: 0 })
} catch (e) {
  nested = e.message
}
return { r, nested }
