export const meta = { name: 'agree', description: 'answers each case in args with agent(), in order, and reports the outcome' }
const out = []
for (const c of args.cases) {
  const opts = c.schema === null ? { label: c.label } : { label: c.label, schema: c.schema }
  try {
    out.push({ ok: true, value: await agent(c.prompt, opts) })
  } catch (e) {
    out.push({ ok: false, error: e.message })
  }
}
return out
