export const meta = {
  name: 'fanout-forms',
  description: 'A one-step fan-out, a for loop and a fan-out with a concurrency limit',
  whenToUse: 'args: {files: list of up to 20 strings}, or the files value itself',
  phases: [
    { title: 'Scan', detail: 'at most 140 agents' },
  ],
}
// Compiled by wflang from fanout.wf. Do not edit: edit the .wf and compile again.
// Worst case: 140 agents (Scan 140); in the inputs' sizes: files + files + files + files×2 + files×2.

// ---- schemas of the agents' results (JSON Schema, object roots) ----
const INT_VALUE = {
  type: 'object',
  required: ['value'],
  properties: { value: { type: 'integer' } },
  additionalProperties: false,
}
const BOOL_VALUE = {
  type: 'object',
  required: ['value'],
  properties: { value: { type: 'boolean' } },
  additionalProperties: false,
}

// ---- permissions: the tools the agents may not use (Claude Code tool names) ----
const DENIED_TOOLS = ['Bash', 'Edit', 'NotebookEdit', 'Write']  // without edit or shell

// ---- helpers: the .wf's value rules (docs/semantics.md) ----
// Iterating None yields nothing; a string yields its code points, a record (or a map)
// its keys.
const iter = (v) => (v == null ? [] : Array.isArray(v) ? v : typeof v === 'string' ? Array.from(v)
  : v instanceof Map ? [...v.keys()] : typeof v === 'object' ? Object.keys(v) : [])
// JSON.stringify(v, null, indent), with a map (a Map, its keys in code point order) written
// as an object in that order: a plain object would put integer-like keys first.
const hasMap = (v) => v instanceof Map || (v !== null && typeof v === 'object' && Object.values(v).some(hasMap))
const stringify = (v, indent) => {
  if (!hasMap(v)) return JSON.stringify(v, null, indent)
  const step = Math.max(0, Math.min(10, Math.trunc(Number(indent) || 0))) // as JSON.stringify reads it
  const write = (x, pad) => {
    const inner = step ? pad + ' '.repeat(step) : ''
    const open = step ? '\n' + inner : ''
    const close = step ? '\n' + pad : ''
    const comma = step ? ',\n' + inner : ','
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]'
      return '[' + open + x.map((y) => write(y, inner) ?? 'null').join(comma) + close + ']'
    }
    if (x !== null && typeof x === 'object') {
      const pairs = (x instanceof Map ? [...x] : Object.entries(x))
        .map(([k, y]) => [k, write(y, inner)]).filter((p) => p[1] !== undefined)
      if (pairs.length === 0) return '{}'
      return '{' + open + pairs.map(([k, y]) => JSON.stringify(k) + (step ? ': ' : ':') + y).join(comma) +
        close + '}'
    }
    return JSON.stringify(x)
  }
  return write(v, '')
}
// text(v): a value as it reads in a prompt, a log line or join(): strings as they are,
// None as null, lists, records and maps as 2-space JSON.
const text = (v) => (v == null ? 'null' : typeof v === 'string' ? v
  : typeof v === 'object' ? stringify(v, 2) : String(v))
// A map value: a Map whose keys are in code point order (how maps iterate in both
// targets), built from [key, value] pairs.
const mapOf = (pairs) => new Map([...pairs].sort((p, q) => compareText(p[0], q[0])))
// Deep structural equality; numbers by value; None equals only None.
const entriesOf = (v) => (v instanceof Map ? [...v] : Object.entries(v))
const equal = (a, b) => {
  if (a === b || (a == null && b == null)) return true
  if (a == null || b == null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]))
  }
  if (a instanceof Map || b instanceof Map) { // a map equals a record with the same entries, as in Python
    const ea = entriesOf(a)
    const mb = new Map(entriesOf(b))
    return ea.length === mb.size && ea.every(([k, x]) => mb.has(k) && equal(x, mb.get(k)))
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
  if (v instanceof Map) return canonical(Object.fromEntries(v))
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
// min()/max(): by compare() of the key; the first of equal items; None for no items.
const pickExtreme = (xs, by, cmp, sign) => {
  let found = null
  let foundKey = null
  let first = true
  for (const x of iter(xs)) {
    const k = by === null ? x : by(x)
    if (first || sign * cmp(k, foundKey) > 0) {
      found = x
      foundKey = k
      first = false
    }
  }
  return found
}
const min = (xs, by = null, cmp = compare) => pickExtreme(xs, by, cmp, -1)
const len = (v) => (v == null ? 0 : Array.isArray(v) ? v.length : typeof v === 'string' ? Array.from(v).length
  : v instanceof Map ? v.size : typeof v === 'object' ? Object.keys(v).length : 0)
// A map's values, in key order.
const values = (m) => (m instanceof Map ? [...m.values()] : [])
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
const runParallel = async (thunks) => {
  const out = await parallel(thunks)
  endIfStopped()
  return out
}
// The live bound guard (wflang/dsl/guard.py): the script counts the agents it starts and
// refuses to start one past the bound that `wf check` proved for these arguments
// (`limit`, set right after the arguments are read). The refusal throws an error that
// ends the run; every later agent throws it again, and the script throws it before it
// returns, so a `parallel` that caught the first throw cannot hide it.
const boundGuard = { limit: Infinity, started: 0, tripped: null }
const guardAgent = (label, where) => {
  if (boundGuard.tripped === null && boundGuard.started >= boundGuard.limit) {
    const e = new Error(`the proven bound would be broken: agent ${boundGuard.started + 1} ("${label}", ${where}) ` +
      `is past the ${boundGuard.limit} agents that wf check proved for these arguments, so the run stops without ` +
      'starting it. This is a bug in wflang, not in your workflow: please report it with the workflow and its arguments.')
    e.name = 'WflangBoundError'
    boundGuard.tripped = e
  }
  if (boundGuard.tripped !== null) throw boundGuard.tripped
  boundGuard.started++
}
const guardDone = (value) => {
  if (boundGuard.tripped !== null) throw boundGuard.tripped
  return value
}
// An answer fitted to its JSON Schema, as wflang/runtime/fit.py does: undeclared
// properties dropped (records rebuilt in declared order, an omittable field left out
// filled with null), lists cut to maxItems, maps (a schema as additionalProperties)
// rebuilt as a Map in key order and cut to maxProperties; anything else that does not
// match (a number outside minimum/maximum, a string outside minLength/maxLength, fewer
// than minItems or minProperties included) makes the answer unfit (undefined), a failed agent.
const fitMap = (v, s) => {
  let names = Object.keys(v).sort(compareText)
  if (Number.isInteger(s.maxProperties)) names = names.slice(0, Math.max(0, s.maxProperties))
  if (names.length < (s.minProperties ?? 0)) return undefined
  const out = new Map()
  for (const name of names) {
    const item = fitAnswer(v[name], s.additionalProperties)
    if (item === undefined) return undefined
    out.set(name, item)
  }
  return out
}
const inRange = (v, s) => v >= (s.minimum ?? -Infinity) && v <= (s.maximum ?? Infinity)
const fitAnswer = (v, s) => {
  if (Array.isArray(s.anyOf)) {
    for (const alt of s.anyOf) {
      const out = fitAnswer(v, alt)
      if (out !== undefined) return out
    }
    return undefined
  }
  switch (s.type) {
    case 'object': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
      if (s.additionalProperties !== null && typeof s.additionalProperties === 'object') return fitMap(v, s)
      const out = []
      for (const [name, sub] of Object.entries(s.properties ?? {})) {
        if (!Object.hasOwn(v, name)) {
          if ((s.required ?? []).includes(name)) return undefined
          out.push([name, null]) // an omittable field left out reads as none
          continue
        }
        const item = fitAnswer(v[name], sub)
        if (item === undefined) return undefined
        out.push([name, item])
      }
      return Object.fromEntries(out)
    }
    case 'array': {
      if (!Array.isArray(v)) return undefined
      const items = Number.isInteger(s.maxItems) ? v.slice(0, Math.max(0, s.maxItems)) : v
      if (items.length < (s.minItems ?? 0)) return undefined
      if (s.items === undefined) return items.slice()
      const out = []
      for (const x of items) {
        const y = fitAnswer(x, s.items)
        if (y === undefined) return undefined
        out.push(y)
      }
      return out
    }
    case 'string': {
      if (typeof v !== 'string' || (s.enum !== undefined && !s.enum.includes(v))) return undefined
      const length = [...v].length // code points, as JSON Schema and Python count
      return length >= (s.minLength ?? 0) && length <= (s.maxLength ?? Infinity) ? v : undefined
    }
    case 'integer':
      return Number.isInteger(v) && inRange(v, s) ? v : undefined
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && inRange(v, s) ? v : undefined
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined
    case 'null':
      return v === null ? null : undefined
    default:
      return v
  }
}
// One agent. A failure (a throw: an error, a schema never satisfied) is null, as in the
// .wf, wherever the agent stands; so is an answer that does not fit its schema
// (fitAnswer). An exhausted budget or the agent cap ends the run (runStop). A result that
// is not a record comes wrapped ({items} or {value}) and is unwrapped; a list longer than
// its declared max is cut, with a log line. The bound guard comes first, outside the
// try: its throw must end the run.
const callAgent = async (prompt, opts, shape = {}) => {
  if (runStop.error !== null) throw runStop.error
  guardAgent(opts.label, shape.at ?? 'line ?')
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
  let schema = opts.schema
  if (shape.unwrap !== undefined) {
    if (!Object.hasOwn(answer, shape.unwrap)) return null
    answer = answer[shape.unwrap]
    schema = schema.properties[shape.unwrap]
  }
  if (shape.max != null && Array.isArray(answer) && answer.length > Math.max(0, shape.max)) {
    const most = Math.max(0, shape.max)
    log(`${opts.label}: kept ${most} of ${answer.length} items (declared max ${most})`)
    answer = answer.slice(0, most)
  }
  const fitted = fitAnswer(answer, schema)
  return fitted === undefined ? null : fitted
}
// A fan-out's value: the item values in item order, None dropped. Items that failed (an
// agent step gave None) and items whose value is None ('none' in `notFailed`: a vote
// without quorum, a None last line) are counted apart in one log line; items a `stop
// when` skipped ('skipped') are not counted.
const dropFailed = (values, where, notFailed = []) => {
  const failed = values.filter((v, i) => v == null && !notFailed[i]).length
  const none = values.filter((v, i) => v == null && notFailed[i] === 'none').length
  const n = values.length
  if (failed > 0 && none > 0) log(`${where}: ${failed} of ${n} items failed, ${none} gave none`)
  else if (failed > 0) log(`${where}: ${failed} of ${n} items failed`)
  else if (none > 0) log(`${where}: ${none} of ${n} items gave none (not a failure)`)
  return values.filter((v) => v != null)
}
// One log line when a fan-out's `stop when` skipped items: how many of how many.
const logSkipped = (where, skipped, total, why) => {
  const k = skipped.filter(Boolean).length
  if (k > 0) log(`${where}: ${k} of ${total} items skipped${why}`)
}
// `for`: the items one after another; an item that throws is null, as in parallel().
const oneByOne = async (items, run) => {
  if (items.length > 4096) throw new Error(`a loop over ${items.length} items (the limit is 4096)`)
  const out = []
  for (let i = 0; i < items.length; i++) {
    try {
      out.push(await run(items[i], i))
    } catch (e) {
      if (e !== null && typeof e === 'object' && e.name === 'WflangBoundError') throw e
      out.push(null)
    }
    endIfStopped()
  }
  return out
}
// `fanout ... with concurrency=N`: at most N items in flight; the others wait in order.
const limiter = (n) => {
  let active = 0
  const waiting = []
  return async (run) => {
    if (active >= n) await new Promise((resolve) => waiting.push(resolve))
    else active++
    try {
      return await run()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}
// Why v is not a value of the declared input type t, or null when it is (the wording of
// `wf run`, wflang/dsl/arguments.py). Types are 'str' | 'int' | 'float' | 'bool' or
// {type: 'int' | 'float', min, max, implicitMin} | {type: 'str', min, max} (a length) | {type: 'union', options} |
// {type: 'record', name, fields} | {type: 'list', item, max, min} | {type: 'map', value, max, min} |
// {type: 'optional', inner};
// a list max that is a string names an int input (its value is in `sizes`). Records are
// closed: an undeclared field is a problem unless `open` (a `run` child's arguments).
const kindOf = (v) => (v === null ? 'null' : typeof v === 'boolean' ? 'a boolean' : typeof v === 'number' ? 'a number'
  : typeof v === 'string' ? 'a string' : Array.isArray(v) ? 'a list' : 'an object')
const typeProblem = (v, t, where, sizes, open = false) => {
  const kind = typeof t === 'string' ? t : t.type
  if (kind === 'optional') return v === null ? null : typeProblem(v, t.inner, where, sizes, open)
  if (v === null) return `${where}: required, got null`
  if (kind === 'union') {
    if (typeof v === 'string' && t.options.includes(v)) return null
    const shown = JSON.stringify(v)
    return `${where}: expected one of ${t.options.map((o) => JSON.stringify(o)).join(', ')}, got ` +
      (shown.length <= 40 ? shown : shown.slice(0, 37) + '...')
  }
  if (kind === 'map') {
    if (typeof v !== 'object' || Array.isArray(v)) return `${where}: expected an object (a map), got ${kindOf(v)}`
    const pairs = entriesOf(v).sort((p, q) => compareText(p[0], q[0]))
    if (t.max != null && pairs.length > t.max) return `${where}: ${pairs.length} keys, the workflow declares max ${t.max}`
    if (t.min != null && pairs.length < t.min) return `${where}: ${pairs.length} keys, the workflow declares min ${t.min}`
    for (const [k, x] of pairs) {
      const problem = typeProblem(x, t.value, `${where}[${JSON.stringify(k)}]`, sizes, open)
      if (problem !== null) return problem
    }
    return null
  }
  if (kind === 'list') {
    if (!Array.isArray(v)) return `${where}: expected a list, got ${kindOf(v)}`
    const most = typeof t.max === 'string' ? sizes[t.max] : t.max
    if (most != null && v.length > most) return `${where}: ${v.length} items, the workflow declares max ${most}`
    if (t.min != null && v.length < t.min) return `${where}: ${v.length} items, the workflow declares min ${t.min}`
    for (let i = 0; i < v.length; i++) {
      const problem = typeProblem(v[i], t.item, `${where}[${i}]`, sizes, open)
      if (problem !== null) return problem
    }
    return null
  }
  if (kind === 'str') {
    if (typeof v !== 'string') return `${where}: expected a string, got ${kindOf(v)}`
    const length = [...v].length // code points, as wf run counts them
    if (t.max != null && length > t.max) return `${where}: ${length} characters, the workflow declares max ${t.max}`
    if (t.min != null && length < t.min) return `${where}: ${length} characters, the workflow declares min ${t.min}`
    return null
  }
  if (kind === 'bool') return typeof v === 'boolean' ? null : `${where}: expected true or false, got ${kindOf(v)}`
  if (kind === 'int' || kind === 'float') {
    if (typeof v !== 'number') return `${where}: expected a number, got ${kindOf(v)}`
    if (kind === 'int' && !Number.isInteger(v)) return `${where}: expected a whole number, got ${v}`
    if (typeof t === 'object') { // an int's or a float's declared range
      if (t.max != null && v > t.max) return `${where}: ${v} is more than the declared max ${t.max}`
      if (t.min != null && v < t.min) {
        return t.implicitMin ? `${where}: ${v} is less than ${t.min}, the least an int input allows unless it declares \`min\``
          : `${where}: ${v} is less than the declared min ${t.min}`
      }
    }
    return null
  }
  if (typeof v !== 'object' || Array.isArray(v)) return `${where}: expected a ${t.name} record, got ${kindOf(v)}`
  if (!open) {
    const extra = Object.keys(v).filter((k) => !Object.hasOwn(t.fields, k)).sort(compareText)
    if (extra.length > 0) {
      const shown = extra.slice(0, 3).map((k) => `\`${k}\``).join(', ')
      const what = extra.length === 1 ? `unknown field ${shown}`
        : `unknown fields ${shown}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}`
      return `${where}: ${what}; a ${t.name} record has only: ${Object.keys(t.fields).join(', ') || 'no fields'}`
    }
  }
  for (const [field, ft] of Object.entries(t.fields)) {
    const optional = typeof ft === 'object' && ft.type === 'optional'
    if (!Object.hasOwn(v, field) && !optional) return `${where}: missing field \`${field}\` of ${t.name}`
    const problem = typeProblem(Object.hasOwn(v, field) ? v[field] : null, ft, `${where}.${field}`, sizes, open)
    if (problem !== null) return problem
  }
  return null
}
// An accepted argument with every record rebuilt as exactly its declared fields, in
// declared order (a missing optional field is null): keys() of it is what was declared.
const fitArgument = (v, t) => {
  if (v === null || typeof t === 'string') return v
  if (t.type === 'optional') return fitArgument(v, t.inner)
  if (t.type === 'list') return Array.isArray(v) ? v.map((x) => fitArgument(x, t.item)) : v
  if (t.type === 'map') return mapOf(entriesOf(v).map(([k, x]) => [k, fitArgument(x, t.value)]))
  if (t.type === 'record' && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(t.fields).map(([k, ft]) => [k, fitArgument(Object.hasOwn(v, k) ? v[k] : null, ft)]))
  }
  return v
}
// An argument with every string where its type wants a number or a bool read as one when
// it is written as one ("5" for an int, "true" for a bool), at any depth; anything else as
// is, for typeProblem to judge (wflang/dsl/arguments.py from_text, the same pattern).
const NUMBER_TEXT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/
const argSpace = (s) => s.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '')
const fromText = (v, t) => {
  const kind = typeof t === 'string' ? t : t.type
  if (kind === 'optional') return fromText(v, t.inner)
  if (kind === 'list') return Array.isArray(v) ? v.map((x) => fromText(x, t.item)) : v
  if (kind === 'map' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromText(x, t.value)]))
  }
  if (typeof v === 'string' && (kind === 'int' || kind === 'float')) {
    const text = argSpace(v)
    const n = NUMBER_TEXT.test(text) ? Number(text) : NaN
    return Number.isFinite(n) ? n : v
  }
  if (typeof v === 'string' && kind === 'bool') {
    const text = argSpace(v)
    return text === 'true' ? true : text === 'false' ? false : v
  }
  if (kind === 'record' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Object.hasOwn(t.fields, k) ? fromText(x, t.fields[k]) : x]))
  }
  return v
}
// The arguments of a run, as `wf run` reads them: an object, a JSON string of one, or
// (for a workflow with exactly one input) the bare value. With a `raw` input (`rawName`)
// a string is that input's text, stripped, unless it is the JSON of an object (the text
// of `/NAME some text`). Unknown names are errors; argument() then reads each input.
const argsObject = (raw, types, open = false, rawName = null, workflow = '') => {
  const names = Object.keys(types)
  const A = { given: {}, types, values: {}, errors: [], open, rawName, workflow }
  let v = raw
  if (typeof v === 'string' && rawName !== null) {
    const text = argSpace(v)
    let parsed = null
    if (text.startsWith('{')) {
      try {
        parsed = JSON.parse(text)
      } catch {
        // not JSON: the text itself
      }
    }
    v = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { [rawName]: text }
  } else if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
    try {
      v = JSON.parse(v.trim())
    } catch {
      // not JSON: the text itself
    }
  }
  if (v == null) return A
  if ((typeof v !== 'object' || Array.isArray(v)) && names.length === 1) v = { [names[0]]: v }
  if (typeof v !== 'object' || Array.isArray(v)) {
    const text = typeof v === 'string' ? `, or mark one \`str\` input \`raw\` to take the text of \`/${workflow} some text\`` : ''
    A.errors.push(`arguments must be an object, not ${kindOf(v)} (pass {${names.join(', ')}} as a JSON object${text})`)
    return A
  }
  A.given = v
  for (const name of Object.keys(v).sort(compareText)) { // by code point, as wf run sorts them
    if (!names.includes(name)) {
      A.errors.push(`unknown argument \`${name}\` (this workflow's inputs are: ${names.join(', ') || 'none'})`)
    }
  }
  return A
}
// One input: the given value, checked against its declared type; its default (the third
// argument) when it is missing, or null for a type that does not allow null. Without a
// default the input is required.
// A blank string (empty, or only spaces, tabs and line breaks) counts as null.
const argument = (A, name, ...fallback) => {
  const t = A.types[name]
  const given = Object.hasOwn(A.given, name)
  let v = given ? A.given[name] : null
  const blank = typeof v === 'string' && argSpace(v) === ''
  if (blank) v = null
  if (!given || (v === null && !(typeof t === 'object' && t.type === 'optional'))) {
    if (fallback.length > 0) v = fitArgument(fallback[0], t)
    else if (!given) A.errors.push(`missing argument \`${name}\``)
    else if (blank) A.errors.push(`args.${name}: required, got an empty string`)
    else A.errors.push(typeProblem(v, t, `args.${name}`, A.values, A.open))
  } else {
    v = fromText(v, t)
    const problem = typeProblem(v, t, `args.${name}`, A.values, A.open)
    if (problem !== null) A.errors.push(problem)
    else v = fitArgument(v, t)
  }
  A.values[name] = v
  return v
}

// ---- arguments: checked as `wf run` checks them, before any agent starts ----
const A = argsObject(args, { files: { type: 'list', item: 'str', max: 20 } })
const files = argument(A, 'files')
if (A.errors.length > 0) throw new Error('the arguments do not fit the workflow\'s inputs: ' + A.errors.join('; '))

// ---- the live bound guard: at most this many agents for these arguments ----
boundGuard.limit = ((3 * files.length) + (2 * files.length * 2))

// ---- phase Scan (line 6) ----
phase('Scan')
// line 7: summaries = fanout f in files:
const summariesEach = await runParallel(iter(files).map((f, i) => () =>
  callAgent(`Summarize ${text(f)}.`,
    { label: `summary ${text(f)}`.replace(/\s+/g, ' ').trim(), phase: 'Scan', disallowedTools: DENIED_TOOLS },
    { at: 'line 8 in "fanout over files (max 20, line 4) × 1 agent" (line 7)' })))
const summaries = dropFailed(summariesEach, 'fanout f in files (line 7)')
// line 9: sizes = for f in files:
const sizesEach = await oneByOne(iter(files), async (f, i2) => {
  // line 10: agent "Count the lines of {f}." -> int
  return await callAgent(`Count the lines of ${text(f)}.`,
    { label: `sizes · file ${i2 + 1}`, phase: 'Scan', schema: INT_VALUE, disallowedTools: DENIED_TOOLS },
    { unwrap: 'value', at: 'line 10 in "for over files (max 20, line 4) × 1 agent" (line 9)' })
})
const sizes = dropFailed(sizesEach, 'for f in files (line 9)')
// line 11: limited = fanout f in files with concurrency=2:
const slots = limiter(2)  // at most this many items in flight
const limitedEach = await runParallel(iter(files).map((f, i3) => () => slots(() =>
  callAgent(`Check ${text(f)} for secrets.`,
    { label: `limited · file ${i3 + 1}`, phase: 'Scan', schema: BOOL_VALUE, disallowedTools: DENIED_TOOLS },
    { unwrap: 'value', at: 'line 12 in "fanout over files (max 20, line 4) × 1 agent" (line 11)' }))))
const limited = dropFailed(limitedEach, 'fanout f in files (line 11)')
// line 14: walked = for f in files:
const notFailed = []  // items whose None is not a failure: 'none' or 'skipped'
const skipped = []  // items a `stop when` skipped
const walkedEach = await oneByOne(iter(files), async (f, i4) => {
  if (compare(len(f), 4) > 0) {  // line 15: stop when
    notFailed[i4] = 'skipped'
    skipped[i4] = true
    return null
  }
  // line 16: first = agent "Look at {f}."
  const first = await callAgent(`Look at ${text(f)}.`,
    { label: `first · file ${i4 + 1}`, phase: 'Scan', disallowedTools: DENIED_TOOLS },
    { at: 'line 16 in "for over files (max 20, line 4) × 2 agents" (line 14)' })
  if (first === null) return null  // the agent failed
  // line 17: agent "Then check {first}." -> bool
  return await callAgent(`Then check ${text(first)}.`,
    { label: `walked · file ${i4 + 1}`, phase: 'Scan', schema: BOOL_VALUE, disallowedTools: DENIED_TOOLS },
    { unwrap: 'value', at: 'line 17 in "for over files (max 20, line 4) × 2 agents" (line 14)' })
})
logSkipped('for f in files (line 14)', skipped, walkedEach.length, ' (stop when len(f) > 4)')
const walked = dropFailed(walkedEach, 'for f in files (line 14)', notFailed)
// line 18: paced = fanout f in files with concurrency=3:
const notFailed2 = []  // items whose None is not a failure: 'none' or 'skipped'
const skipped2 = []  // items a `stop when` skipped
const slots2 = limiter(3)  // at most this many items in flight
const pacedEach = await runParallel(iter(files).map((f, i5) => () => slots2(async () => {
  if (equal(f, 'b.py')) {  // line 19: stop when
    notFailed2[i5] = 'skipped'
    skipped2[i5] = true
    return null
  }
  // line 20: plan = agent "Plan {f}."
  const plan = await callAgent(`Plan ${text(f)}.`,
    { label: `plan · file ${i5 + 1}`, phase: 'Scan', disallowedTools: DENIED_TOOLS },
    { at: 'line 20 in "fanout over files (max 20, line 4) × 2 agents" (line 18)' })
  if (plan === null) return null  // the agent failed
  // line 21: agent "Do {plan}."
  return await callAgent(`Do ${text(plan)}.`,
    { label: `paced · file ${i5 + 1}`, phase: 'Scan', disallowedTools: DENIED_TOOLS },
    { at: 'line 21 in "fanout over files (max 20, line 4) × 2 agents" (line 18)' })
})))
logSkipped('fanout f in files (line 18)', skipped2, pacedEach.length, ' (stop when f == "b.py")')
const paced = dropFailed(pacedEach, 'fanout f in files (line 18)', notFailed2)
return guardDone({ summaries, sizes, limited, walked, paced })
