// Runs a compiled workflow whose agents answer with values nested 100,000 deep, handed
// over as objects (the way an engine passes a tool call's input; no JSON round trip, which
// would overflow JSON.stringify first). The node host cannot deliver such answers (it
// refuses a fake file nested that deep, as `wf run` does), so this drives the script's own
// code: the prelude's fitting of answers. Prints {result, logs} or {threw}.
//
//   node deep_answers.mjs SCRIPT.js
import fs from 'node:fs'
import vm from 'node:vm'

const text = fs.readFileSync(process.argv[2], 'utf8')
const body = text.slice(text.indexOf('\n}\n') + 3) // after `export const meta = {...}`
let deep = []
for (let i = 0; i < 100000; i++) deep = [deep]
let deepObject = {}
for (let i = 0; i < 100000; i++) deepObject = { a: deepObject }
const logs = []
let started = 0
const ctx = vm.createContext({
  agent: async (prompt, opts) => {
    started++
    const schema = opts && opts.schema
    if (!schema) return 'text answer'
    const props = Object.keys(schema.properties ?? {})
    const answer = {}
    for (const p of props) answer[p] = started % 2 ? deep : deepObject
    return answer
  },
  parallel: async (thunks) => Promise.all(thunks.map((t) => Promise.resolve().then(t).catch((e) => {
    logs.push(`parallel failed: ${e && e.message}`)
    return null
  }))),
  pipeline: async () => { throw new Error('pipeline() is not used by these tests') },
  phase: () => {},
  log: (m) => logs.push(String(m)),
  args: undefined,
  budget: { total: null, spent: () => 0, remaining: () => Infinity },
  console,
  setTimeout,
  clearTimeout,
})
try {
  const result = await new vm.Script("(async () => {'use strict';" + body + '\n})()').runInContext(ctx)
  process.stdout.write(JSON.stringify({ result, logs, started }))
} catch (e) {
  process.stdout.write(JSON.stringify({ threw: `${e && e.name}: ${e && e.message}`, logs, started }))
}
