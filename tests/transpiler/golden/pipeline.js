export const meta = {
  name: 'pipeline-steps',
  description: 'Several agent steps per item: no barrier, and None ends the item',
  whenToUse: 'args: {files: list of up to 10 strings, depth?: integer up to 3 (default 2)}',
  phases: [
    { title: 'Work', detail: 'at most 50 agents' },
  ],
}
// Compiled by wflang from pipeline.wf. Do not edit: edit the .wf and compile again.
// Worst case: 50 agents (Work 50); in the inputs' sizes: files×3 + files×2.

// ---- schemas of the agents' results (JSON Schema, object roots) ----
const PLAN = {
  type: 'object',
  required: ['steps', 'risky'],
  properties: { steps: { type: 'array', items: { type: 'string' }, maxItems: 5 }, risky: { type: 'boolean' } },
}
const BOOL_VALUE = { type: 'object', required: ['value'], properties: { value: { type: 'boolean' } } }
const INT_VALUE = { type: 'object', required: ['value'], properties: { value: { type: 'integer' } } }

// ---- permissions: the tools the agents may not use (Claude Code tool names) ----
const DENIED_TOOLS = ['Bash', 'Edit', 'NotebookEdit', 'Write']  // without edit or shell

// ---- helpers: the .wf's value rules (docs/semantics.md) ----
// Iterating None yields nothing; a string yields its code points, a record its keys.
const iter = (v) => (v == null ? [] : Array.isArray(v) ? v : typeof v === 'string' ? Array.from(v)
  : typeof v === 'object' ? Object.keys(v) : [])
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
// Strings by Unicode code point (JS's own < compares UTF-16 code units, which differs
// for characters beyond U+FFFF).
const compareText = (a, b) => {
  if (a === b) return 0
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)
    const y = b.codePointAt(j)
    if (x !== y) return x < y ? -1 : 1
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0
}
// canonical(v): JSON with keys sorted by code point and no spaces; groups and dedupes.
const canonical = (v) => {
  if (v == null) return 'null'
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']'
  if (typeof v === 'object') {
    return '{' + Object.keys(v).sort(compareText).map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}'
  }
  return JSON.stringify(v)
}
// The total order of sort, top, min, max and <: None < booleans < numbers < strings <
// lists < records; lists element-wise then shorter first; records by canonical().
const kindRank = (v) => (v == null ? 0 : typeof v === 'boolean' ? 1 : typeof v === 'number' ? 2
  : typeof v === 'string' ? 3 : Array.isArray(v) ? 4 : 5)
const compare = (a, b) => {
  const ka = kindRank(a)
  const kb = kindRank(b)
  if (ka !== kb) return ka < kb ? -1 : 1
  if (ka === 0) return 0
  if (ka <= 2) return a === b ? 0 : a < b ? -1 : 1
  if (ka === 3) return compareText(a, b)
  if (ka === 5) return compareText(canonical(a), canonical(b))
  for (let i = 0; i < a.length && i < b.length; i++) {
    const c = compare(a[i], b[i])
    if (c !== 0) return c
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}
const len = (v) => (v == null ? 0 : Array.isArray(v) ? v.length : typeof v === 'string' ? Array.from(v).length
  : typeof v === 'object' ? Object.keys(v).length : 0)
// Arithmetic: any None operand gives None; + also joins two strings or two lists.
const plus = (a, b) => (a == null || b == null ? null : Array.isArray(a) ? [...a, ...b] : a + b)
// budget.remaining in the .wf: None when no token budget is set.
const budgetRemaining = () => (budget.total == null ? null : budget.remaining())
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
const runPipeline = async (items, ...stages) => {
  const out = await pipeline(items, ...stages)
  endIfStopped()
  return out
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
// A fan-out's value: the item values in item order, None dropped. Items that failed (a
// step that starts agents gave None) are counted in one log line; `notFailed` marks the
// items whose None is not a failure (a `stop when` fired, or the last line's value is None).
const dropFailed = (values, where, notFailed = []) => {
  const failed = values.filter((v, i) => v == null && !notFailed[i]).length
  if (failed > 0) log(`${where}: ${failed} of ${values.length} items failed`)
  return values.filter((v) => v != null)
}
// One log line when a fan-out's `stop when` skipped items: how many of how many.
const logSkipped = (where, skipped, total, why) => {
  const k = skipped.filter(Boolean).length
  if (k > 0) log(`${where}: ${k} of ${total} items skipped${why}`)
}
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
// One input: the given value, checked against its declared type; its default (the third
// argument) when it is missing, or null for a type that does not allow null. Without a
// default the input is required.
const argument = (A, name, ...fallback) => {
  const t = A.types[name]
  const given = Object.hasOwn(A.given, name)
  let v = given ? A.given[name] : null
  if (!given || (v === null && !(typeof t === 'object' && t.type === 'optional'))) {
    if (fallback.length > 0) v = fallback[0]
    else if (!given) A.errors.push(`missing argument \`${name}\``)
    else A.errors.push(typeProblem(v, t, `args.${name}`, A.values))
  } else {
    const problem = typeProblem(v, t, `args.${name}`, A.values)
    if (problem !== null) A.errors.push(problem)
  }
  A.values[name] = v
  return v
}

// ---- arguments: checked as `wf run` checks them, before any agent starts ----
const A = argsObject(args, { files: { type: 'list', item: 'str', max: 10 }, depth: { type: 'int', max: 3 } })
const files = argument(A, 'files')
const depth = argument(A, 'depth', 2)
if (A.errors.length > 0) throw new Error('invalid arguments: ' + A.errors.join('; '))

// ---- phase Work (line 11) ----
phase('Work')
// line 12: results = fanout f in files:
const notFailed = []  // items whose None is not a failure
const skipped = []  // items a `stop when` skipped
const resultsEach = await runPipeline(iter(files).map((f) => ({ f })),
  async ({ f }, _, i) => {
    if (!equal(budgetRemaining(), null) && (compare(budgetRemaining(), 1000) < 0)) {  // line 13: stop when
      notFailed[i] = true
      skipped[i] = true
      return null
    }
    // line 14: plan = agent "Plan changes to {f} in {depth} passes." -> Plan
    const plan = await callAgent(`Plan changes to ${text(f)} in ${text(depth)} passes.`,
      { label: `Work:14.${i + 1}`, phase: 'Work', schema: PLAN, disallowedTools: DENIED_TOOLS })
    if (plan === null) return null
    return { f, plan }
  },
  async (prev, _, i) => {
    if (prev === null) return null
    let { f, plan } = prev
    let extra = null
    // line 15: if plan.risky:
    if (truthy(plan?.risky ?? null)) {
      log(`${text(f)}: risky plan`)
      extra = 'be careful'
    } else {
      extra = ''
    }
    // line 20: done = agent "Apply this plan to {f}. {extra}\n{plan.steps}"
    const done = await callAgent(`Apply this plan to ${text(f)}. ${text(extra)}\n${text(plan?.steps ?? null)}`,
      { label: `Work:20.${i + 1}`, phase: 'Work', disallowedTools: DENIED_TOOLS })
    if (done === null) return null
    return { f, plan, done }
  },
  async (prev, _, i) => {
    if (prev === null) return null
    let { f, plan, done } = prev
    // line 21: approved = agent "Review the change to {f}: {done}" -> bool
    const approved = await callAgent(`Review the change to ${text(f)}: ${text(done)}`,
      { label: `Work:21.${i + 1}`, phase: 'Work', schema: BOOL_VALUE, disallowedTools: DENIED_TOOLS },
      { unwrap: 'value' })
    if (approved === null) return null
    return { file: f, steps: len(plan?.steps ?? null), ok: approved }
  })
logSkipped('fanout f in files (line 12)', skipped, resultsEach.length, ' (stop when budget.remaining != None and budget.remaining < 1000)')
const results = dropFailed(resultsEach, 'fanout f in files (line 12)', notFailed)
// line 23: counts = fanout f in files:
const notFailed2 = []  // items whose None is not a failure
const countsEach = await runPipeline(iter(files).map((f) => ({ f })),
  async ({ f }, _2, i2) => {
    // line 24: a = agent "First look at {f}." -> int
    const a = await callAgent(`First look at ${text(f)}.`,
      { label: `Work:24.${i2 + 1}`, phase: 'Work', schema: INT_VALUE, disallowedTools: DENIED_TOOLS },
      { unwrap: 'value' })
    if (a === null) return null
    return { f, a }
  },
  async (prev2, _2, i2) => {
    if (prev2 === null) return null
    let { f, a } = prev2
    // line 25: b = agent "Second look at {f}." -> int
    const b = await callAgent(`Second look at ${text(f)}.`,
      { label: `Work:25.${i2 + 1}`, phase: 'Work', schema: INT_VALUE, disallowedTools: DENIED_TOOLS },
      { unwrap: 'value' })
    if (b === null) return null
    const value = (compare(a, 1) > 0) ? plus(a, b) : null
    if (value === null) notFailed2[i2] = true  // a None value, not a failure
    return value
  })
const counts = dropFailed(countsEach, 'fanout f in files (line 23)', notFailed2)
return { results, counts }
