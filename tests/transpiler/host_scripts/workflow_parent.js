export const meta = { name: 'workflow-parent', description: 'runs a sibling script as a child workflow' }
phase('Parent')
const byName = await workflow('workflow_child', { n: 1 })
const byPath = await workflow({ scriptPath: './workflow_child.js' }, { n: 2 })
let unknown = null
try {
  await workflow('no_such_workflow')
} catch (e) {
  unknown = e.message
}
return { byName, byPath, unknown }
