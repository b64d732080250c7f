export const meta = {
  name: 'fix-forms',
  description: 'Fix loops with a check, a stall limit and an agent as the check',
  whenToUse: 'takes no args',
  phases: [
    { title: 'Fix', detail: 'at most 12 agents' },
  ],
}
// Compiled by wflang from fix.wf. Do not edit: edit the .wf and compile again.
// Worst case: 12 agents (Fix 12).

// ---- schemas of the agents' results (JSON Schema, object roots) ----
const CHECK = {
  type: 'object',
  required: ['passed', 'details'],
  properties: { passed: { type: 'boolean' }, details: { type: 'string' } },
}
const STATUS = {
  type: 'object',
  required: ['passed', 'failures'],
  properties: {
    passed: { type: 'boolean' },
    failures: { type: 'array', items: { type: 'string' }, maxItems: 5 },
  },
}

// ---- permissions: the tools the agents may not use (Claude Code tool names) ----
const DENIED_TOOLS = ['Bash', 'Edit', 'NotebookEdit', 'Write']  // without edit or shell

// ---- helpers: the .wf's value rules (docs/semantics.md) ----
// text(v): a value as it reads in a prompt, a log line or join(): strings as they are,
// None as null, lists and records as 2-space JSON.
const text = (v) => (v == null ? 'null' : typeof v === 'string' ? v
  : typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v))
// Python's truth, which the .wf uses: None, false, 0, '', [] and {} are false.
const truthy = (v) => (Array.isArray(v) ? v.length > 0
  : v !== null && typeof v === 'object' ? Object.keys(v).length > 0 : Boolean(v))
// Deep structural equality; numbers by value; None equals only None.
const equal = (a, b) => {
  if (a === b || (a == null && b == null)) return true
  if (a == null || b == null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]))
  }
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]))
}
// The run ends when Claude Code's token budget is exhausted or its 1,000-agent cap is
// reached: callAgent rethrows those errors (parallel() and pipeline() turn a throw into a
// null slot, so runParallel/runPipeline/oneByOne check here afterwards and end the run).
// The error keeps Claude Code's name, so parallel() counts budget slots as it does.
const runStop = { error: null }
const stopTheRun = (e) => {
  if (runStop.error === null) {
    runStop.error = new Error(`the run stopped: ${e.message}`)
    runStop.error.name = e.name
  }
  return runStop.error
}
const endIfStopped = () => {
  if (runStop.error !== null) throw runStop.error
}
// One agent. A failure (a throw: an error, a schema never satisfied) is null, as in the
// .wf, wherever the agent stands; so is an answer not shaped as its schema says. An
// exhausted budget or the agent cap ends the run (runStop). A result that is not a record
// comes wrapped ({items} or {value}) and is unwrapped; a list longer than its declared max
// is cut, with a log line.
const callAgent = async (prompt, opts, shape = {}) => {
  if (runStop.error !== null) throw runStop.error
  let answer
  try {
    answer = await agent(prompt, opts)
  } catch (e) {
    if (e?.name === 'WorkflowBudgetExceededError' || e?.name === 'WorkflowAgentCapError') throw stopTheRun(e)
    return null
  }
  if (answer == null) return null
  if (opts.schema === undefined) return typeof answer === 'string' ? answer : text(answer)
  if (typeof answer !== 'object' || Array.isArray(answer)) return null
  if (shape.unwrap !== undefined) {
    if (!Object.hasOwn(answer, shape.unwrap)) return null
    answer = answer[shape.unwrap]
  }
  if (shape.max != null && Array.isArray(answer) && answer.length > shape.max) {
    log(`${opts.label}: kept ${shape.max} of ${answer.length} items (declared max ${shape.max})`)
    answer = answer.slice(0, shape.max)
  }
  return answer
}
// fix: a check passed when its result is not None and its `passed` field is truthy.
const checkPassed = (r) => r != null && truthy(r.passed ?? null)
// fix ... stall S: the last S+1 check results are all equal (the same failure S times over).
const checksStalled = (checks, s) => checks.length > s &&
  checks.slice(-(s + 1)).every((c) => equal(c, checks[checks.length - 1]))
// Why v is not a value of the declared input type t, or null when it is (the wording of
// `wf run`). Types are 'str' | 'int' | 'float' | 'bool' or {type: 'int', max} |
// {type: 'union', options} | {type: 'record', name, fields} | {type: 'list', item, max} |
// {type: 'optional', inner}; a list max that is a string names an int input (its value
// is in `sizes`).
const kindOf = (v) => (v === null ? 'null' : typeof v === 'boolean' ? 'a boolean' : typeof v === 'number' ? 'a number'
  : typeof v === 'string' ? 'a string' : Array.isArray(v) ? 'a list' : 'an object')
const typeProblem = (v, t, where, sizes) => {
  const kind = typeof t === 'string' ? t : t.type
  if (kind === 'optional') return v === null ? null : typeProblem(v, t.inner, where, sizes)
  if (v === null) return `${where}: required, got null`
  if (kind === 'union') {
    if (typeof v === 'string' && t.options.includes(v)) return null
    const shown = JSON.stringify(v)
    return `${where}: expected one of ${t.options.map((o) => JSON.stringify(o)).join(', ')}, got ` +
      (shown.length <= 40 ? shown : shown.slice(0, 37) + '...')
  }
  if (kind === 'list') {
    if (!Array.isArray(v)) return `${where}: expected a list, got ${kindOf(v)}`
    const most = typeof t.max === 'string' ? sizes[t.max] : t.max
    if (most != null && v.length > most) return `${where}: ${v.length} items, the workflow declares max ${most}`
    for (let i = 0; i < v.length; i++) {
      const problem = typeProblem(v[i], t.item, `${where}[${i}]`, sizes)
      if (problem !== null) return problem
    }
    return null
  }
  if (kind === 'str') return typeof v === 'string' ? null : `${where}: expected a string, got ${kindOf(v)}`
  if (kind === 'bool') return typeof v === 'boolean' ? null : `${where}: expected true or false, got ${kindOf(v)}`
  if (kind === 'int' || kind === 'float') {
    if (typeof v !== 'number') return `${where}: expected a number, got ${kindOf(v)}`
    if (kind === 'int' && !Number.isInteger(v)) return `${where}: expected a whole number, got ${v}`
    if (kind === 'int' && typeof t === 'object' && v > t.max) return `${where}: ${v} is more than the declared max ${t.max}`
    return null
  }
  if (typeof v !== 'object' || Array.isArray(v)) return `${where}: expected a ${t.name} record, got ${kindOf(v)}`
  for (const [field, ft] of Object.entries(t.fields)) {
    const optional = typeof ft === 'object' && ft.type === 'optional'
    if (!Object.hasOwn(v, field) && !optional) return `${where}: missing field \`${field}\` of ${t.name}`
    const problem = typeProblem(Object.hasOwn(v, field) ? v[field] : null, ft, `${where}.${field}`, sizes)
    if (problem !== null) return problem
  }
  return null
}
// The arguments of a run, as `wf run` reads them: an object, a JSON string of one, or
// (for a workflow with exactly one input) the bare value. Unknown names are errors;
// argument() then reads each input.
const argsObject = (raw, types) => {
  const names = Object.keys(types)
  const A = { given: {}, types, values: {}, errors: [] }
  let v = raw
  if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
    try {
      v = JSON.parse(v.trim())
    } catch {
      // not JSON: the text itself
    }
  }
  if (v == null) return A
  if ((typeof v !== 'object' || Array.isArray(v)) && names.length === 1) v = { [names[0]]: v }
  if (typeof v !== 'object' || Array.isArray(v)) {
    A.errors.push(`arguments must be an object, not ${kindOf(v)} (pass {${names.join(', ')}})`)
    return A
  }
  A.given = v
  for (const name of Object.keys(v)) {
    if (!names.includes(name)) {
      A.errors.push(`unknown argument \`${name}\` (this workflow's inputs are: ${names.join(', ') || 'none'})`)
    }
  }
  return A
}

// ---- arguments: checked as `wf run` checks them, before any agent starts ----
const A = argsObject(args, {})
if (A.errors.length > 0) throw new Error('invalid arguments: ' + A.errors.join('; '))

// ---- phase Fix (line 8) ----
phase('Fix')
// line 9: first = fix max 3 stall 1:
const runCheck = (attempt) => callAgent('Run the tests.',
  { label: `Fix:11.${attempt}`, phase: 'Fix', schema: CHECK, disallowedTools: DENIED_TOOLS })
let last = await runCheck(0)
let attempts = 0
const checks = [last]  // for `stall`
while (!checkPassed(last) && attempts < 3) {  // fix max 3
  attempts++
  // line 10: agent "Fix the failing tests."
  await callAgent('Fix the failing tests.',
    { label: `Fix:10.${attempts}`, phase: 'Fix', disallowedTools: DENIED_TOOLS })
  last = await runCheck(attempts)
  checks.push(last)
  if (checksStalled(checks, 1)) break  // stall 1
}
const first = { passed: checkPassed(last), attempts, last }
let notes = null
// line 12: second = fix max 2:
const runCheck2 = (attempt2) => callAgent('Run mypy and list failures.',
  { label: `Fix:15.${attempt2}`, phase: 'Fix', schema: STATUS, disallowedTools: DENIED_TOOLS })
let last2 = await runCheck2(0)
let attempts2 = 0
while (!checkPassed(last2) && attempts2 < 2) {  // fix max 2
  attempts2++
  // line 13: notes = agent "Fix the type errors, report what you changed."
  notes = await callAgent('Fix the type errors, report what you changed.',
    { label: `Fix:13.${attempts2}`, phase: 'Fix', disallowedTools: DENIED_TOOLS })
  log(`changed: ${text(notes)}`)
  last2 = await runCheck2(attempts2)
}
const second = { passed: checkPassed(last2), attempts: attempts2, last: last2 }
return { first, second }
