export const meta = {
  name: 'run-child',
  description: 'Runs another workflow inline, per document',
  whenToUse: 'args: {docs: list of up to 4 strings}, or the docs value itself',
  phases: [
    { title: 'Summaries', detail: 'at most 5 agents' },
  ],
}
// Compiled by wflang from run.wf. Do not edit: edit the .wf and compile again.
// Worst case: 5 agents (Summaries 5); in the inputs' sizes: docs + 1.

// ---- schemas of the agents' results (JSON Schema, object roots) ----
const SUMMARY = {
  type: 'object',
  required: ['text', 'points'],
  properties: { text: { type: 'string' }, points: { type: 'array', items: { type: 'string' }, maxItems: 3 } },
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
const join = (xs, sep = '') => iter(xs).map((x) => text(x)).join(sep)
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
// A fan-out's value: the item values in item order, None dropped. Items that failed (a
// step that starts agents gave None) are counted in one log line; `notFailed` marks the
// items whose None is not a failure (a `stop when` fired, or the last line's value is None).
const dropFailed = (values, where, notFailed = []) => {
  const failed = values.filter((v, i) => v == null && !notFailed[i]).length
  if (failed > 0) log(`${where}: ${failed} of ${values.length} items failed`)
  return values.filter((v) => v != null)
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
const A = argsObject(args, { docs: { type: 'list', item: 'str', max: 4 } })
const docs = argument(A, 'docs')
if (A.errors.length > 0) throw new Error('invalid arguments: ' + A.errors.join('; '))

// ---- phase Summaries (line 6) ----
phase('Summaries')
// line 7: summaries = fanout d in docs:
const summariesEach = await runParallel(iter(docs).map((d, i) => async () => {
  // line 8: run "child/summarize.wf" with {doc: d, words: 30}
  return await (async () => {  // child/summarize.wf
    // its arguments, checked as the workflow's own would be
    const A2 = argsObject({ doc: d, words: 30 }, { doc: 'str', words: { type: 'int', max: 200 } })
    const doc = argument(A2, 'doc')
    const words = argument(A2, 'words', 50)
    if (A2.errors.length > 0) throw new Error('run "child/summarize.wf": ' + A2.errors.join('; '))

    // ---- phase Inner (line 11): its agents run in the caller's phase ----
    // line 12: s = agent "Summarize {doc} in {words} words." -> Summary
    const s = await callAgent(`Summarize ${text(doc)} in ${text(words)} words.`,
      { label: `Summaries:12.${i + 1}`, phase: 'Summaries', schema: SUMMARY, disallowedTools: DENIED_TOOLS })
    log(`summarized ${text(doc)}`)
    return s
  })()
}))
const summaries = dropFailed(summariesEach, 'fanout d in docs (line 7)')
// line 9: overall = run "child/summarize.wf" with {doc: join(docs, sep=", ")}
const overall = await (async () => {  // child/summarize.wf
  // its arguments, checked as the workflow's own would be
  const A3 = argsObject({ doc: join(docs, ', ') }, { doc: 'str', words: { type: 'int', max: 200 } })
  const doc = argument(A3, 'doc')
  const words = argument(A3, 'words', 50)
  if (A3.errors.length > 0) throw new Error('run "child/summarize.wf": ' + A3.errors.join('; '))

  // ---- phase Inner (line 11): its agents run in the caller's phase ----
  // line 12: s = agent "Summarize {doc} in {words} words." -> Summary
  const s = await callAgent(`Summarize ${text(doc)} in ${text(words)} words.`,
    { label: 'Summaries:12', phase: 'Summaries', schema: SUMMARY, disallowedTools: DENIED_TOOLS })
  log(`summarized ${text(doc)}`)
  return s
})()
return { summaries, overall }
