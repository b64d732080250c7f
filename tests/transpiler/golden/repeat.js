export const meta = {
  name: 'repeat-forms',
  description: 'Bounded rounds with carried state and stop conditions',
  whenToUse: 'args: {rounds?: integer up to 6 (default 4)}, or the rounds value itself',
  phases: [
    { title: 'Rounds', detail: 'at most 6 agents' },
  ],
}
// Compiled by wflang from repeat.wf. Do not edit: edit the .wf and compile again.
// Worst case: 6 agents (Rounds 6); in the inputs' sizes: rounds.

// ---- schemas of the agents' results (JSON Schema, object roots) ----
const STR_LIST_3 = {
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { type: 'string' }, maxItems: 3 } },
}

// ---- permissions: the tools the agents may not use (Claude Code tool names) ----
const DENIED_TOOLS = ['Bash', 'Edit', 'NotebookEdit', 'Write']  // without edit or shell

// ---- helpers: the .wf's value rules (docs/semantics.md) ----
// text(v): a value as it reads in a prompt, a log line or join(): strings as they are,
// None as null, lists and records as 2-space JSON.
const text = (v) => (v == null ? 'null' : typeof v === 'string' ? v
  : typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v))
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
const A = argsObject(args, { rounds: { type: 'int', max: 6 } })
const rounds = argument(A, 'rounds', 4)
if (A.errors.length > 0) throw new Error('invalid arguments: ' + A.errors.join('; '))

// ---- phase Rounds (line 6) ----
phase('Rounds')
let found = []
let new_ = null
// line 8: last = repeat max rounds as r:
let lastValue = null  // the last round's last value; None when a `stop when` ended it
for (let r = 1; r <= rounds; r++) {  // repeat max rounds
  // line 9: new = agent "Find cases not in {found} (round {r})." -> list[str] max 3
  new_ = await callAgent(`Find cases not in ${text(found)} (round ${text(r)}).`,
    { label: `Rounds:9.${r}`, phase: 'Rounds', schema: STR_LIST_3, disallowedTools: DENIED_TOOLS },
    { unwrap: 'items', max: 3 })
  if (equal(len(new_), 0)) {  // line 10: stop when
    log(`repeat (line 8): stopped in round ${r} of ${text(rounds)} (stop when len(new) == 0)`)
    lastValue = null
    break
  }
  found = plus(found, new_)
  // line 12: if len(found) > 8:
  if (compare(len(found), 8) > 0) {
    if (true) {  // line 13: stop when
      log(`repeat (line 8): stopped in round ${r} of ${text(rounds)} (stop when true)`)
      lastValue = null
      break
    }
  }
  lastValue = len(found)
}
const last = lastValue
log(`stopped with ${text(last)}`)
return { found, last }
