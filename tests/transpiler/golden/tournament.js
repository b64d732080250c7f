export const meta = {
  name: 'tournament-forms',
  description: 'A single-elimination bracket with a bye',
  whenToUse: 'args: {plans: list of up to 7 strings}, or the plans value itself',
  phases: [
    { title: 'Bracket', detail: 'at most 6 agents' },
  ],
}
// Compiled by wflang from tournament.wf. Do not edit: edit the .wf and compile again.
// Worst case: 6 agents (Bracket 6); in the inputs' sizes: plans−1.

// ---- schemas of the agents' results (JSON Schema, object roots) ----
const PICK = {
  type: 'object',
  required: ['second_better', 'why'],
  properties: { second_better: { type: 'boolean' }, why: { type: 'string' } },
}

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
// Single elimination. Items pair up in order, (0,1), (2,3), ...; an odd last item gets a
// bye; the matches of a round run concurrently and winners keep bracket order. judge(a,
// b, match) resolves true when a advances, false when b does, null when the judge
// failed (then a advances). Matches are numbered 1.. in order of play.
const playBracket = async (items, judge, where) => {
  let field = items
  let played = 0
  let failed = 0
  while (field.length > 1) {
    const matches = []
    for (let k = 0; k + 1 < field.length; k += 2) matches.push([field[k], field[k + 1], ++played])
    const results = await runParallel(matches.map(([a, b, m]) => () => judge(a, b, m)))
    failed += results.filter((r) => r !== true && r !== false).length
    const next = matches.map(([a, b], k) => (results[k] === false ? b : a))
    if (field.length % 2 === 1) next.push(field[field.length - 1])
    field = next
  }
  if (failed > 0) log(`${where}: ${failed} of ${played} judges failed (their first contestant advanced)`)
  return field.length > 0 ? field[0] : null
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
const A = argsObject(args, { plans: { type: 'list', item: 'str', max: 7 } })
const plans = argument(A, 'plans')
if (A.errors.length > 0) throw new Error('invalid arguments: ' + A.errors.join('; '))

// ---- phase Bracket (line 10) ----
phase('Bracket')
// line 11: winner = tournament a vs b in plans:
const winner = await playBracket(iter(plans), async (a, b, match) => {
  // line 12: agent "Which plan is better?\nA: {a}\nB: {b}" -> Pick
  const answer = await callAgent(`Which plan is better?\nA: ${text(a)}\nB: ${text(b)}`,
    { label: `Bracket:12.${match}`, phase: 'Bracket', schema: PICK, disallowedTools: DENIED_TOOLS })
  return answer === null ? null : !truthy(answer?.second_better ?? null)  // true: a advances
}, 'tournament (line 11)')
return winner
