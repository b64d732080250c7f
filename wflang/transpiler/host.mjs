#!/usr/bin/env node
// The node test host: runs a compiled workflow script the way Claude Code loads it, and
// answers agent() from a fake-answer file (docs/fake-answers.md).
//
//   node host.mjs --script S.js [--fake F.json] [--args A.json] [--out calls.json] [--budget-total N]
//   node host.mjs --batch JOBS.json [--out reports.json]   (many runs, one report each)
//
// The fake-answer logic below is an independent implementation of the one in
// wflang/runtime/backends/fake.py; the two must agree exactly (tests/transpiler/test_node_host.py
// checks it). Time is virtual: latencies and setTimeout advance a clock only when the script
// is idle, so runs are instant and deterministic.
//
// Output (stdout, or the --out file): one JSON object
//   {meta, result, error, calls, logs, phases, agents_started, virtual_time}
// Exit codes: 0 the script returned (whatever it returned); 1 the script failed to load or
// threw (error says why, calls keeps what was recorded); 2 bad command line, fake or args file.

import fs from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import util from 'node:util'
import vm from 'node:vm'

const AGENT_CAP = 1000
const ITEM_LIMIT = 4096
const MAX_SCHEMA_DEPTH = 32
const MAX_ARRAY_ITEMS = 4096
const DEFAULT_INT_SPAN = 999
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
const SYNC_SLICE_MS = 30000
// Levels of arrays and objects a fake file or an args file may nest, as wf run's reader
// (wflang/dsl/jsonread.py): JSON.parse reads 100,000 levels, but JSON.stringify (the copy
// of each reply) and every recursive walk overflow the stack on them.
const DEPTH_LIMIT = 200

const DATE_MSG = 'Date.now() / new Date() are unavailable in workflow scripts (breaks resume). ' +
  'Stamp results after the workflow returns, or pass timestamps via args.'
const RANDOM_MSG = 'Math.random() is unavailable in workflow scripts (breaks resume). ' +
  'For N independent samples, include the index in the agent label or prompt.'

// The tools Claude Code 2.1.332 offers a workflow subagent (its first request's `tools` and
// its deferred tools, captured against the real binary; Glob and Grep appear once Bash is
// denied), and those that carry a capability of the .wf's `permissions:`
// (wflang/transpiler/permissions.py denies them; wflang/runtime/tools.py grants the same
// capabilities to `wf run`'s agents).
const SUBAGENT_TOOLS = ['Bash', 'CronCreate', 'CronDelete', 'CronList', 'Edit', 'EnterWorktree', 'ExitWorktree',
  'Glob', 'Grep', 'ListAgents', 'Monitor', 'NotebookEdit', 'Read', 'ReportFindings', 'SendMessage', 'Skill',
  'StructuredOutput', 'TaskStop', 'ToolSearch', 'WebFetch', 'WebSearch', 'Write']
const CAPABILITY_TOOLS = { edit: ['Edit', 'NotebookEdit', 'Write'], shell: ['Bash'] }

const TOP_KEYS = ['rules', 'default', 'fail_one_in', 'validate', 'comment']
const RULE_KEYS = ['label', 'prompt', 'reply', 'replies', 'fail', 'latency', 'comment']
const VALIDATED_KEYWORDS = new Set([
  '$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties',
  'items', 'minItems', 'maxItems', 'uniqueItems', 'maxProperties', 'minProperties',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength',
  'anyOf', 'oneOf', 'allOf', 'not',
])
const COMMON_ESCAPE_LETTERS = new Set('dDwWsSbBnrtfvxu')

// ------------------------------------------------------------------ small helpers

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k)
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const asInt = (v) => (typeof v === 'number' && Number.isInteger(v) ? v : null)
const asNum = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const copy = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)))
const errMessage = (e) => (e !== null && typeof e === 'object' && typeof e.message === 'string' ? e.message : String(e))

function jsonType (v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return 'number'
  return typeof v // boolean, string, object
}

const withArticle = (word) => (/^[aeiou]/.test(word) ? 'an ' : 'a ') + word

function describe (v) {
  return jsonType(v) + (v !== null && typeof v === 'object' ? '' : ' ' + JSON.stringify(v))
}

// ------------------------------------------------------------------ hashing, globs, usage

/** FNV-1a, 32 bits, over the UTF-16 code units of `text` (one XOR per unit). */
export function fnv1a32 (text, state = FNV_OFFSET) {
  let h = state >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, FNV_PRIME) >>> 0
  }
  return h
}

export function failsByHash (label, prompt, n) {
  return fnv1a32(label + '\n' + prompt) % n === 0
}

/** Whole-string glob over code points: `*` any run, `?` one code point, all else literal. */
export function globMatch (pattern, text) {
  const p = Array.from(pattern)
  const t = Array.from(text)
  let i = 0
  let j = 0
  let star = -1
  let mark = 0
  while (j < t.length) {
    if (i < p.length && p[i] === '*') {
      star = i
      mark = j
      i++
    } else if (i < p.length && (p[i] === '?' || p[i] === t[j])) {
      i++
      j++
    } else if (star !== -1) {
      i = star + 1
      mark++
      j = mark
    } else {
      return false
    }
  }
  while (i < p.length && p[i] === '*') i++
  return i === p.length
}

export function fakeUsage (prompt, value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return {
    input_tokens: Math.floor(prompt.length / 4) + 1,
    output_tokens: Math.floor(text.length / 4) + 1,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
  }
}

/** Why `pattern` is outside the regex subset Python and JS read alike, or null. */
export function commonRegexProblem (pattern) {
  let inClass = false
  let i = 0
  while (i < pattern.length) {
    const ch = pattern[i]
    const nxt = i + 1 < pattern.length ? pattern[i + 1] : ''
    if (ch === '\\') {
      if (/^[A-Za-z]$/.test(nxt) && !COMMON_ESCAPE_LETTERS.has(nxt)) return `the escape \\${nxt} is not in the common subset`
      i += 2
      continue
    }
    if (inClass) {
      inClass = ch !== ']'
    } else if (ch === '[') {
      inClass = true
    } else if (ch === '(' && nxt === '?') {
      const kind = pattern.slice(i + 2, i + 3)
      const then = pattern.slice(i + 3, i + 4)
      if (!([':', '=', '!'].includes(kind) || (kind === '<' && ['=', '!'].includes(then)))) {
        return `the group syntax (?${kind} is not in the common subset`
      }
    }
    i++
  }
  return null
}

// ------------------------------------------------------------------ schema-shaped values

class SchemaValueError extends Error {}

const pointer = (p) => p.map((seg) => '/' + String(seg).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
const at = (p) => pointer(p) || '/'

function site (p) {
  for (let k = p.length - 1; k >= 0; k--) {
    if (typeof p[k] === 'number') return [pointer(p.slice(0, k)) + '/*' + pointer(p.slice(k + 1)), p[k]]
  }
  return [pointer(p), 0]
}

/** The deterministic worst-case value for (schema, label, prompt); see docs/fake-answers.md. */
export function schemaValue (schema, label, prompt) {
  if (schema === null || schema === undefined) return stringValue({}, 'text', [], label)
  const ctx = { root: schema, label, seed: fnv1a32(label + '\n' + prompt + '\n') }
  return gen(ctx, schema, 'value', [], 0)
}

function gen (ctx, s, name, p, depth) {
  if (depth > MAX_SCHEMA_DEPTH) {
    throw new SchemaValueError(`the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels at ${at(p)} (a recursive $ref?)`)
  }
  if (s === true) s = {}
  if (s === false) throw new SchemaValueError(`the schema at ${at(p)} is false and admits no value`)
  if (!isObject(s)) throw new SchemaValueError(`the schema at ${at(p)} is not an object`)
  if (hasOwn(s, '$ref')) return gen(ctx, resolveRefForGen(ctx.root, s.$ref), name, p, depth + 1)
  if (hasOwn(s, 'const')) return copy(s.const)
  if (Array.isArray(s.enum) && s.enum.length) return copy(s.enum[pick(ctx, p, s.enum.length)])
  let kind = typeOf(s)
  if (kind === null) {
    for (const key of ['anyOf', 'oneOf']) {
      const alternatives = s[key]
      if (Array.isArray(alternatives) && alternatives.length) return gen(ctx, firstNonNull(alternatives), name, p, depth + 1)
    }
    kind = hasOwn(s, 'properties') ? 'object' : hasOwn(s, 'items') ? 'array' : 'string'
  }
  switch (kind) {
    case 'null': return null
    case 'boolean': return false
    case 'integer': return integerValue(ctx, s, p)
    case 'number': return numberValue(ctx, s, p)
    case 'string': return stringValue(s, name, p, ctx.label)
    case 'array': return arrayValue(ctx, s, name, p, depth)
    case 'object': return objectValue(ctx, s, p, depth)
    default: throw new SchemaValueError(`the schema at ${at(p)} has an unsupported type ${JSON.stringify(kind)}`)
  }
}

function typeOf (s) {
  const t = s.type
  if (typeof t === 'string') return t
  if (Array.isArray(t) && t.length) {
    for (const item of t) {
      if (item !== 'null') return typeof item === 'string' ? item : null
    }
    return 'null'
  }
  return null
}

function firstNonNull (alternatives) {
  for (const alt of alternatives) {
    if (!(isObject(alt) && alt.type === 'null')) return alt
  }
  return alternatives[0]
}

function resolvePointer (root, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return { error: `only local $ref values (#/...) are supported, got ${JSON.stringify(ref)}` }
  if (ref === '#' || ref === '#/') return { node: root }
  if (!ref.startsWith('#/')) return { error: `cannot resolve $ref ${JSON.stringify(ref)}` }
  let node = root
  for (const raw of ref.slice(2).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (isObject(node) && hasOwn(node, token)) node = node[token]
    else if (Array.isArray(node) && /^[0-9]+$/.test(token) && Number(token) < node.length) node = node[Number(token)]
    else return { error: `cannot resolve $ref ${JSON.stringify(ref)}` }
  }
  return { node }
}

function resolveRefForGen (root, ref) {
  const r = resolvePointer(root, ref)
  if (r.error) throw new SchemaValueError(r.error)
  return r.node
}

function pick (ctx, p, n) {
  const [where, index] = site(p)
  return (fnv1a32(where, ctx.seed) + index) % n
}

function intBounds (s) {
  const lows = []
  const highs = []
  let v
  if ((v = asNum(s.minimum)) !== null) lows.push(Math.ceil(v))
  if ((v = asNum(s.exclusiveMinimum)) !== null) lows.push(Math.floor(v) + 1)
  if ((v = asNum(s.maximum)) !== null) highs.push(Math.floor(v))
  if ((v = asNum(s.exclusiveMaximum)) !== null) highs.push(Math.ceil(v) - 1)
  return [lows.length ? Math.max(...lows) : null, highs.length ? Math.min(...highs) : null]
}

function defaultRange ([lo, hi]) {
  if (lo === null && hi === null) return [0, DEFAULT_INT_SPAN]
  if (lo === null) return [Math.min(0, hi), hi]
  if (hi === null) return [lo, lo + DEFAULT_INT_SPAN]
  return [lo, hi]
}

function integerValue (ctx, s, p) {
  const [lo, hi] = defaultRange(intBounds(s))
  if (lo > hi) return lo
  return lo + pick(ctx, p, hi - lo + 1)
}

function numberValue (ctx, s, p) {
  const [lo, hi] = defaultRange(intBounds(s))
  if (lo <= hi) return lo + pick(ctx, p, hi - lo + 1)
  const lows = ['minimum', 'exclusiveMinimum'].map((k) => asNum(s[k])).filter((v) => v !== null)
  const highs = ['maximum', 'exclusiveMaximum'].map((k) => asNum(s[k])).filter((v) => v !== null)
  return (Math.max(...lows) + Math.min(...highs)) / 2
}

function stringValue (s, name, p, label) {
  const indices = p.filter((seg) => typeof seg === 'number').map(String).join('.') || '0'
  let points = Array.from(`${name} for ${label} #${indices}`)
  const longest = asInt(s.maxLength)
  if (longest !== null && points.length > longest) points = points.slice(0, Math.max(longest, 0))
  const shortest = asInt(s.minLength)
  while (shortest !== null && points.length < shortest) points.push('.')
  return points.join('')
}

function arrayValue (ctx, s, name, p, depth) {
  const most = asInt(s.maxItems)
  const least = asInt(s.minItems)
  let n = most !== null ? most : Math.max(2, least ?? 0)
  n = Math.min(Math.max(n, 0), MAX_ARRAY_ITEMS)
  let items = hasOwn(s, 'items') ? s.items : true
  if (!(isObject(items) || typeof items === 'boolean')) items = true
  const out = []
  for (let i = 0; i < n; i++) out.push(gen(ctx, items, name, [...p, i], depth + 1))
  return out
}

function objectValue (ctx, s, p, depth) {
  const out = {}
  if (isObject(s.properties)) {
    for (const key of Object.keys(s.properties)) out[key] = gen(ctx, s.properties[key], key, [...p, key], depth + 1)
  }
  if (Array.isArray(s.required)) {
    for (const key of s.required) {
      if (typeof key === 'string' && !hasOwn(out, key)) out[key] = gen(ctx, {}, key, [...p, key], depth + 1)
    }
  }
  if (isObject(s.additionalProperties)) { // a map: keys "1".."n", n = maxProperties (else 2)
    const most = asInt(s.maxProperties)
    const n = Math.min(Math.max(most !== null ? most : 2, 0), MAX_ARRAY_ITEMS)
    for (let i = 1; i <= n; i++) {
      const key = String(i)
      if (!hasOwn(out, key)) out[key] = gen(ctx, s.additionalProperties, key, [...p, key], depth + 1)
    }
  }
  return out
}

// ------------------------------------------------------------------ shaping and validation

function wrapperKey (schema) {
  const props = schema.properties
  const type = hasOwn(schema, 'type') ? schema.type : 'object'
  if (type !== 'object' || !isObject(props)) return null
  const keys = Object.keys(props)
  return keys.length === 1 && (keys[0] === 'items' || keys[0] === 'value') ? keys[0] : null
}

export function shapeReply (schema, reply) {
  if (schema === null || schema === undefined) return copy(reply)
  const key = wrapperKey(schema)
  if (key === null || (isObject(reply) && hasOwn(reply, key))) return copy(reply)
  return { [key]: copy(reply) }
}

class SchemaUnusable extends Error {}

function deepEqual (a, b) {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}

function isType (v, t) {
  switch (t) {
    case 'null': return v === null
    case 'boolean': return typeof v === 'boolean'
    case 'string': return typeof v === 'string'
    case 'number': return typeof v === 'number'
    case 'integer': return typeof v === 'number' && Number.isInteger(v)
    case 'array': return Array.isArray(v)
    case 'object': return isObject(v)
    default: throw new SchemaUnusable(`unknown type ${JSON.stringify(t)}`)
  }
}

// One function per keyword, each returning the first error or null. This is the same
// algorithm, with the same messages, as `subset_error` in fake.py, and it means what
// jsonschema means for these keywords.
const fail = (p, message) => ({ path: p, message })
const isNum = (v) => typeof v === 'number'

const bound = (compare, text) => (root, m, v, p) =>
  isNum(v) && isNum(m) && compare(v, m) ? fail(p, `${v} is ${text} ${m}`) : null
const length = (tooFar, text) => (root, n, v, p) => {
  if (typeof v !== 'string' || !isNum(n)) return null
  const count = Array.from(v).length
  return tooFar(count, n) ? fail(p, `${count} characters, ${text} ${n}`) : null
}

const KEYWORDS = {
  $ref (root, ref, v, p) {
    const r = resolvePointer(root, ref)
    if (r.error) throw new SchemaUnusable(r.error)
    return firstError(root, r.node, v, p)
  },
  type (root, t, v, p) {
    const types = Array.isArray(t) ? t : [t]
    return types.some((x) => isType(v, x)) ? null : fail(p, `expected ${types.map(String).join(' or ')}, got ${jsonType(v)}`)
  },
  enum (root, values, v, p) {
    return !Array.isArray(values) || values.some((x) => deepEqual(x, v)) ? null : fail(p, 'not one of the enum values')
  },
  const (root, c, v, p) {
    return deepEqual(c, v) ? null : fail(p, 'not the const value')
  },
  properties (root, props, v, p) {
    if (!isObject(v) || !isObject(props)) return null
    for (const key of Object.keys(props)) {
      if (hasOwn(v, key)) {
        const e = firstError(root, props[key], v[key], [...p, key])
        if (e) return e
      }
    }
    return null
  },
  required (root, required, v, p) {
    if (!isObject(v) || !Array.isArray(required)) return null
    for (const key of required) {
      if (!hasOwn(v, key)) return fail(p, `missing required property ${JSON.stringify(key)}`)
    }
    return null
  },
  additionalProperties (root, extra, v, p, schema) {
    if (!isObject(v)) return null
    const known = isObject(schema.properties) ? schema.properties : {}
    const extras = Object.keys(v).filter((k) => !hasOwn(known, k))
    if (isObject(extra)) {
      for (const key of extras) {
        const e = firstError(root, extra, v[key], [...p, key])
        if (e) return e
      }
      return null
    }
    if (extra === false && extras.length) return fail(p, 'unexpected properties ' + extras.map((k) => JSON.stringify(k)).join(', '))
    return null
  },
  items (root, items, v, p, schema) {
    if (!Array.isArray(v)) return null
    const start = Array.isArray(schema.prefixItems) ? schema.prefixItems.length : 0
    if (v.length <= start) return null
    if (items === false) return fail(p, 'no (more) items are allowed here')
    for (let i = start; i < v.length; i++) {
      const e = firstError(root, items, v[i], [...p, i])
      if (e) return e
    }
    return null
  },
  minItems (root, n, v, p) {
    return Array.isArray(v) && isNum(n) && v.length < n ? fail(p, `${v.length} items, at least ${n} required`) : null
  },
  maxItems (root, n, v, p) {
    return Array.isArray(v) && isNum(n) && v.length > n ? fail(p, `${v.length} items, at most ${n} allowed`) : null
  },
  maxProperties (root, n, v, p) {
    const many = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).length : 0
    return isNum(n) && many > n ? fail(p, `${many} properties, at most ${n} allowed`) : null
  },
  minProperties (root, n, v, p) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
    const many = Object.keys(v).length
    return isNum(n) && many < n ? fail(p, `${many} properties, at least ${n} required`) : null
  },
  uniqueItems (root, unique, v, p) {
    if (unique !== true || !Array.isArray(v)) return null
    for (let i = 0; i < v.length; i++) {
      for (let j = i + 1; j < v.length; j++) {
        if (deepEqual(v[i], v[j])) return fail(p, 'items are not unique')
      }
    }
    return null
  },
  minimum: bound((v, m) => v < m, 'less than the minimum'),
  maximum: bound((v, m) => v > m, 'greater than the maximum'),
  exclusiveMinimum: bound((v, m) => v <= m, 'not greater than the exclusive minimum'),
  exclusiveMaximum: bound((v, m) => v >= m, 'not less than the exclusive maximum'),
  minLength: length((count, n) => count < n, 'at least'),
  maxLength: length((count, n) => count > n, 'at most'),
  anyOf (root, alternatives, v, p) {
    if (!Array.isArray(alternatives) || alternatives.some((s) => !firstError(root, s, v, p))) return null
    return fail(p, 'not valid under any of the anyOf schemas')
  },
  oneOf (root, alternatives, v, p) {
    if (!Array.isArray(alternatives)) return null
    const valid = alternatives.filter((s) => !firstError(root, s, v, p)).length
    if (valid === 0) return fail(p, 'not valid under any of the oneOf schemas')
    return valid > 1 ? fail(p, 'valid under more than one of the oneOf schemas') : null
  },
  allOf (root, all, v, p) {
    if (!Array.isArray(all)) return null
    for (const s of all) {
      const e = firstError(root, s, v, p)
      if (e) return e
    }
    return null
  },
  not (root, s, v, p) {
    return firstError(root, s, v, p) ? null : fail(p, 'valid under the not schema')
  },
}

function firstError (root, schema, v, p) {
  if (schema === true) return null
  if (schema === false) return fail(p, 'no value is allowed here (false schema)')
  if (!isObject(schema)) throw new SchemaUnusable(`the schema at ${at(p)} is not an object or boolean`)
  for (const key of Object.keys(schema)) {
    if (!VALIDATED_KEYWORDS.has(key)) continue
    const e = KEYWORDS[key](root, schema[key], v, p, schema)
    if (e) return e
  }
  return null
}

/** null when valid, else "at <pointer>: <problem>" for the first error. */
export function validateValue (schema, value) {
  let e
  try {
    e = firstError(schema, schema, value, [])
  } catch (err) {
    if (err instanceof SchemaUnusable) return `at /: the schema cannot be used: ${err.message}`
    if (err instanceof RangeError) return 'at /: the schema cannot be used: it recurses without end'
    throw err
  }
  return e === null ? null : `at ${at(e.path)}: ${e.message}`
}

// ------------------------------------------------------------------ the fake file

export class FakeFileError extends Error {}

/** Offset of the first `[` or `{` that opens level DEPTH_LIMIT + 1 (strings skipped), or
 * -1; for text JSON.parse has accepted. */
export function tooDeepAt (text) {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++
    } else if (ch === '[' || ch === '{') {
      if (++depth > DEPTH_LIMIT) return i
    } else if (ch === ']' || ch === '}') {
      depth--
    }
  }
  return -1
}

/** "line L, column C" of an offset, both from 1, as Python's JSONDecodeError counts them. */
function lineColumn (text, position) {
  const before = text.slice(0, position)
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') }
}

const TOO_DEEP = `arrays and objects nest too deeply here (more than ${DEPTH_LIMIT} levels)`

const fileErr = (source, where, problem) => new FakeFileError(`fake file ${source}: ${where}: ${problem}`)

function checkKeys (obj, allowed, source, where) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw fileErr(source, where, `unknown key "${key}" (allowed: ${allowed.join(', ')})`)
  }
}

function compilePrompt (pattern, source, where) {
  const problem = commonRegexProblem(pattern)
  if (problem !== null) throw fileErr(source, where, `regular expression ${JSON.stringify(pattern)}: ${problem}`)
  try {
    return new RegExp(pattern)
  } catch (e) {
    throw fileErr(source, where, `invalid regular expression ${JSON.stringify(pattern)}: ${errMessage(e)}`)
  }
}

function parseRule (raw, index, source) {
  const where = `rules[${index}]`
  if (!isObject(raw)) throw fileErr(source, where, `expected an object, got ${describe(raw)}`)
  checkKeys(raw, RULE_KEYS, source, where)
  for (const key of ['label', 'prompt', 'comment']) {
    if (hasOwn(raw, key) && typeof raw[key] !== 'string') throw fileErr(source, `${where}.${key}`, `expected a string, got ${describe(raw[key])}`)
  }
  const answers = ['reply', 'replies', 'fail'].filter((k) => hasOwn(raw, k))
  if (answers.length > 1) throw fileErr(source, where, `give at most one of reply, replies, fail (got ${answers.join(', ')})`)
  const regex = hasOwn(raw, 'prompt') ? compilePrompt(raw.prompt, source, `${where}.prompt`) : null
  if (hasOwn(raw, 'replies') && (!Array.isArray(raw.replies) || raw.replies.length === 0)) {
    throw fileErr(source, `${where}.replies`, `expected a non-empty array, got ${describe(raw.replies)}`)
  }
  if (hasOwn(raw, 'fail') && (typeof raw.fail !== 'string' || raw.fail === '')) {
    throw fileErr(source, `${where}.fail`, `expected a non-empty string (the failure message), got ${describe(raw.fail)}`)
  }
  const latency = hasOwn(raw, 'latency') ? raw.latency : 0
  if (asNum(latency) === null || latency < 0) throw fileErr(source, `${where}.latency`, `expected a number of seconds >= 0, got ${describe(latency)}`)
  return {
    index,
    label: hasOwn(raw, 'label') ? raw.label : null,
    regex,
    hasReply: hasOwn(raw, 'reply'),
    reply: raw.reply,
    replies: hasOwn(raw, 'replies') ? raw.replies : null,
    fail: hasOwn(raw, 'fail') ? raw.fail : null,
    latency,
  }
}

export function parseFake (data, source = '<object>') {
  if (!isObject(data)) throw fileErr(source, 'top level', `expected an object, got ${describe(data)}`)
  checkKeys(data, TOP_KEYS, source, 'top level')
  if (hasOwn(data, 'comment') && typeof data.comment !== 'string') throw fileErr(source, 'comment', `expected a string, got ${describe(data.comment)}`)
  const rulesRaw = hasOwn(data, 'rules') ? data.rules : []
  if (!Array.isArray(rulesRaw)) throw fileErr(source, 'rules', `expected an array, got ${describe(rulesRaw)}`)
  const rules = rulesRaw.map((raw, i) => parseRule(raw, i, source))
  const def = hasOwn(data, 'default') ? data.default : 'schema'
  let mode
  let defaultReply
  if (def === 'schema' || def === 'fail') {
    mode = def
  } else if (isObject(def) && Object.keys(def).length === 1 && hasOwn(def, 'reply')) {
    mode = 'reply'
    defaultReply = def.reply
  } else {
    throw fileErr(source, 'default', `expected "schema", "fail" or {"reply": <value>}, got ${describe(def)}`)
  }
  let failOneIn = null
  if (hasOwn(data, 'fail_one_in')) {
    failOneIn = asInt(data.fail_one_in)
    if (failOneIn === null || failOneIn < 1) throw fileErr(source, 'fail_one_in', `expected an integer >= 1, got ${describe(data.fail_one_in)}`)
  }
  const validate = hasOwn(data, 'validate') ? data.validate : true
  if (typeof validate !== 'boolean') throw fileErr(source, 'validate', `expected true or false, got ${describe(validate)}`)
  return { rules, default: mode, defaultReply, failOneIn, validate }
}

export function loadFakeText (text, source) {
  let data
  try {
    data = JSON.parse(text)
  } catch (e) {
    const m = /position (\d+)/.exec(errMessage(e))
    const position = m ? Number(m[1]) : /end of JSON input/.test(errMessage(e)) ? text.length : null
    if (position !== null) {
      const before = text.slice(0, position)
      const line = before.split('\n').length
      const column = before.length - before.lastIndexOf('\n')
      throw new FakeFileError(`fake file ${source}: invalid JSON at line ${line}, column ${column}: ${errMessage(e)}`)
    }
    throw new FakeFileError(`fake file ${source}: invalid JSON: ${errMessage(e)}`)
  }
  const deep = tooDeepAt(text)
  if (deep >= 0) {
    const { line, column } = lineColumn(text, deep)
    throw new FakeFileError(`fake file ${source}: invalid JSON at line ${line}, column ${column}: ${TOO_DEEP}`)
  }
  return parseFake(data, source)
}

/** The fake's answer to one call: {latency, value, usage} or {latency, error}. Synchronous,
 * so `replies` advance in call (start) order. */
export function decide (spec, counters, { label, prompt, schema }) {
  const n = spec.failOneIn
  if (n !== null && failsByHash(label, prompt, n)) return { latency: 0, error: `fake: fail_one_in=${n} fails this call` }
  const rule = spec.rules.find((r) => (r.label === null || globMatch(r.label, label)) && (r.regex === null || r.regex.test(prompt)))
  if (!rule) return answerDefault(spec, { label, prompt, schema }, 0)
  if (rule.fail !== null) return { latency: rule.latency, error: rule.fail }
  if (rule.replies !== null) {
    const k = counters[rule.index] ?? 0
    counters[rule.index] = k + 1
    return answerExplicit({ prompt, schema }, rule.replies[Math.min(k, rule.replies.length - 1)], `rules[${rule.index}]`, rule.latency, spec.validate)
  }
  if (rule.hasReply) return answerExplicit({ prompt, schema }, rule.reply, `rules[${rule.index}]`, rule.latency, spec.validate)
  return answerDefault(spec, { label, prompt, schema }, rule.latency)
}

function answerDefault (spec, { label, prompt, schema }, latency) {
  if (spec.default === 'fail') return { latency, error: `fake: no rule answers the call labelled "${label}"` }
  if (spec.default === 'reply') return answerExplicit({ prompt, schema }, spec.defaultReply, 'default', latency, spec.validate)
  let value
  try {
    value = schemaValue(schema, label, prompt)
  } catch (e) {
    if (!(e instanceof SchemaValueError)) throw e
    return { latency, error: `fake: cannot build a schema-shaped value: ${e.message}` }
  }
  if (schema !== null && schema !== undefined) {
    const problem = validateValue(schema, value)
    if (problem !== null) return { latency, error: `fake: the schema-shaped value does not match the schema ${problem}` }
  }
  return { latency, value, usage: fakeUsage(prompt, value) }
}

function answerExplicit ({ prompt, schema }, reply, where, latency, validate = true) {
  if (schema === null || schema === undefined) {
    if (typeof reply !== 'string') return { latency, error: `fake: ${where} gives ${withArticle(jsonType(reply))} reply to a text agent, which needs a string` }
    return { latency, value: reply, usage: fakeUsage(prompt, reply) }
  }
  const value = shapeReply(schema, reply)
  const problem = validate ? validateValue(schema, value) : null
  if (problem !== null) return { latency, error: `fake: ${where} gives a reply that does not match the schema ${problem}` }
  return { latency, value, usage: fakeUsage(prompt, value) }
}

// ------------------------------------------------------------------ virtual time

/** Timers fire only when the script is idle (no pending microtasks), earliest first, so
 * latencies cost no wall time and ordering is deterministic (like trio's MockClock with
 * autojump). */
class VirtualClock {
  constructor () {
    this.now = 0
    this.timers = []
    this.seq = 0
  }

  schedule (seconds, fn) {
    const id = ++this.seq
    this.timers.push({ at: this.now + Math.max(0, seconds), id, fn })
    return id
  }

  cancel (id) {
    const k = this.timers.findIndex((t) => t.id === id)
    if (k >= 0) this.timers.splice(k, 1)
  }

  sleep (seconds) {
    return new Promise((resolve) => this.schedule(seconds, resolve))
  }

  fireNext () {
    if (!this.timers.length) return false
    let best = 0
    for (let k = 1; k < this.timers.length; k++) {
      const a = this.timers[k]
      const b = this.timers[best]
      if (a.at < b.at || (a.at === b.at && a.id < b.id)) best = k
    }
    const [t] = this.timers.splice(best, 1)
    this.now = t.at
    t.fn()
    return true
  }
}

// ------------------------------------------------------------------ loading a script

class LoadError extends Error {}

const HARDEN = `(() => {
  'use strict'
  const DATE_MSG = ${JSON.stringify(DATE_MSG)}
  const RANDOM_MSG = ${JSON.stringify(RANDOM_MSG)}
  const RealDate = Date
  const now = function now () { throw new Error(DATE_MSG) }
  RealDate.now = now
  const SafeDate = new Proxy(RealDate, {
    apply () { throw new Error(DATE_MSG) },
    construct (target, args, newTarget) {
      if (args.length === 0) throw new Error(DATE_MSG)
      return Reflect.construct(target, args, newTarget === SafeDate ? target : newTarget)
    },
  })
  Math.random = function random () { throw new Error(RANDOM_MSG) }
  globalThis.Date = SafeDate
  for (const name of ['ShadowRealm', 'WebAssembly', 'FinalizationRegistry', 'WeakRef', 'Atomics',
    'SharedArrayBuffer', 'queueMicrotask']) delete globalThis[name]
})()`

function skipString (text, i, quote) {
  for (i++; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === quote) return i + 1
  }
  return text.length
}

function skipSpaceAndComments (text, i) {
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++
    if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i)
      i = end < 0 ? text.length : end + 1
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2)
      if (end < 0) return text.length
      i = end + 2
    } else {
      return i
    }
  }
}

function matchBrace (text, i) {
  let depth = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(text, i, c)
      continue
    }
    if (text.startsWith('//', i) || text.startsWith('/*', i)) {
      i = skipSpaceAndComments(text, i)
      continue
    }
    if (c === '{' || c === '[' || c === '(') depth++
    else if (c === '}' || c === ']' || c === ')') {
      depth--
      if (depth === 0) return i + 1
    }
    i++
  }
  return -1
}

/** Read `export const meta = {...}` statically (it must be a pure literal) and return the
 * meta and the body with `export const meta =` turned into `const meta =`. */
function splitMeta (text) {
  const start = skipSpaceAndComments(text, 0)
  const m = /^export\s+const\s+meta\s*=/.exec(text.slice(start))
  if (!m) throw new LoadError('the script must begin with `export const meta = {...}` (only comments may precede it)')
  const open = skipSpaceAndComments(text, start + m[0].length)
  if (text[open] !== '{') throw new LoadError('`export const meta` must be an object literal')
  const close = matchBrace(text, open)
  if (close < 0) throw new LoadError('`export const meta = {` is never closed')
  let meta
  try {
    const ctx = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } })
    meta = copy(new vm.Script('(' + text.slice(open, close) + '\n)', { filename: 'meta' }).runInContext(ctx, { timeout: 1000 }))
  } catch (e) {
    throw new LoadError(`meta is not a pure literal: ${errMessage(e)}`)
  }
  if (!isObject(meta)) throw new LoadError('meta must be an object')
  if (typeof meta.name !== 'string' || meta.name === '') throw new LoadError('meta.name must be a non-empty string')
  if (typeof meta.description !== 'string') throw new LoadError('meta.description must be a string')
  const body = text.slice(0, start) + 'const meta =' + text.slice(start + m[0].length)
  return { meta, body }
}

const stringList = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '' && x === x.trim())

/** agent()'s tool options as Claude Code 2.1.332 checks them before a spawn: a malformed
 * list, a '*' outside an mcp__ entry, a tool name in the wrong case, a clamp on an agent
 * without Bash, or a schema agent denied StructuredOutput refuse the spawn. The denied
 * tools, sorted and without repeats (null for none). */
function toolDenials (I, o, hasSchema) {
  const refuse = (why) => { throw new I.Error(`agent() opts.${why}. Refusing the spawn rather than running it un-narrowed.`) }
  let denied = null
  if (o.disallowedTools !== undefined) {
    if (!stringList(o.disallowedTools)) refuse("disallowedTools must be an array of non-empty tool-name strings (e.g. ['Bash', 'Write'])")
    for (const entry of o.disallowedTools) {
      if (entry.includes('*') && !/^mcp__/i.test(entry)) refuse(`disallowedTools entry '${entry}' cannot match any tool`)
      const sameButCase = SUBAGENT_TOOLS.find((t) => t !== entry && t.toLowerCase() === entry.toLowerCase())
      if (sameButCase !== undefined) refuse(`disallowedTools entry '${entry}' does not match any tool, but '${sameButCase}' exists`)
      if (hasSchema && entry === 'StructuredOutput') refuse('disallowedTools denies StructuredOutput, which a schema agent needs')
    }
    denied = o.disallowedTools.length === 0 ? null : [...new Set(o.disallowedTools)].sort()
  }
  if (o.bashCommandClamp !== undefined) {
    if (!stringList(o.bashCommandClamp) || !o.bashCommandClamp.every((r) => /^Bash\(\S(.*\S)?\)$/.test(r))) {
      refuse("bashCommandClamp must be an array of 'Bash(<command or prefix>)' rules")
    }
    if ((denied ?? []).includes('Bash')) refuse('bashCommandClamp can bind nothing: the agent has no Bash')
  }
  if (o.sharedHeadLength !== undefined && !(Number.isSafeInteger(o.sharedHeadLength) && o.sharedHeadLength >= 0)) {
    refuse('sharedHeadLength must be a whole number of characters, 0 or more')
  }
  return denied
}

/** The head Claude Code 2.1.332 sends as its own cached block for `sharedHeadLength` n, or
 * null: it splits only when the split is clean (head and rest not blank, the head not
 * ending inside a surrogate pair). */
function sharedHead (text, n) {
  if (n === undefined || n === 0) return null
  const head = text.slice(0, n)
  const rest = text.slice(n)
  return head.trim() !== '' && rest.trim() !== '' && !/[\uD800-\uDBFF]$/.test(head) ? head : null
}

// Claude Code 2.1.332's own errors (names and messages), which compiled scripts recognise.
function budgetError (I, total, spent) {
  const e = new I.Error(`Workflow token budget exceeded (${spent.toLocaleString('en-US')} / ` +
    `${total.toLocaleString('en-US')} output tokens). Stopping further agent() calls. In-flight agents will ` +
    'complete; their results are preserved.')
  e.name = 'WorkflowBudgetExceededError'
  return e
}

function capError (I) {
  const e = new I.Error(`Workflow agent() call cap reached (${AGENT_CAP}). This usually means a loop using ` +
    'budget.remaining() never terminates because no token budget was set \u2014 remaining() returns Infinity ' +
    'when budget.total is null. Add a hard iteration cap to the loop, or pass a token budget.')
  e.name = 'WorkflowAgentCapError'
  return e
}

/** Load one script (the top-level one, or a workflow() child) into its own VM context. */
function instantiate (state, scriptPath, argsJson, { child = false } = {}) {
  let text
  try {
    text = fs.readFileSync(scriptPath, 'utf8')
  } catch (e) {
    throw new LoadError(`cannot read ${scriptPath}: ${errMessage(e)}`)
  }
  const { meta, body } = splitMeta(text)
  const ctx = vm.createContext(Object.create(null), { name: 'workflow', codeGeneration: { strings: false, wasm: false } })
  const I = vm.runInContext('({ Error, TypeError, RangeError, Array, JSON })', ctx)
  vm.runInContext(HARDEN, ctx)
  const toRealm = (v) => (v === undefined ? undefined : I.JSON.parse(JSON.stringify(v)))
  const prefix = child ? `[${meta.name}] ` : ''
  const log = (message) => { state.logs.push(prefix + String(message)) }

  const agent = async (prompt, opts) => {
    const text = String(prompt)
    if (opts !== undefined && opts !== null && !isObject(opts)) throw new I.TypeError('agent(prompt, opts): opts must be an object')
    const o = opts ?? {}
    if (state.started >= AGENT_CAP) throw capError(I)
    if (state.budgetTotal !== null && state.spent >= state.budgetTotal) throw budgetError(I, state.budgetTotal, state.spent)
    if (o.schema !== undefined && o.schema !== null && !isObject(o.schema)) {
      throw new I.TypeError('agent({schema}) received an invalid JSON Schema: the schema must be an object')
    }
    if (o.isolation === 'remote') throw new I.Error("agent({isolation:'remote'}) is not available in this build")
    const denied = toolDenials(I, o, o.schema != null)
    const schema = o.schema == null ? null : copy(o.schema)
    const label = o.label != null ? String(o.label) : text.replace(/\s+/g, ' ').trim().slice(0, 60)
    const call = {
      prompt: text,
      schema,
      model: o.model ?? null,
      effort: o.effort ?? null,
      agent_type: o.agentType ?? null,
      label,
      phase: o.phase != null ? String(o.phase) : state.phase,
      isolation: o.isolation ?? null,
      disallowed_tools: denied,
      grants: Object.keys(CAPABILITY_TOOLS).filter((c) => !CAPABILITY_TOOLS[c].some((t) => (denied ?? []).includes(t))),
      shared_head: sharedHead(text, o.sharedHeadLength),
      result: null,
      failed: false,
      error: null,
      usage: null,
      start: state.clock.now,
      end: null,
    }
    state.started++
    state.calls.push(call)
    const answer = decide(state.fake, state.counters, { label, prompt: text, schema })
    if (answer.latency > 0) await state.clock.sleep(answer.latency)
    call.end = state.clock.now
    if (answer.error !== undefined) {
      call.failed = true
      call.error = answer.error
      throw new I.Error(answer.error)
    }
    call.result = answer.value
    call.usage = answer.usage
    state.spent += answer.usage.output_tokens
    return toRealm(answer.value)
  }

  const parallel = async (thunks) => {
    if (!Array.isArray(thunks)) throw new I.TypeError('parallel() expects an array of functions')
    if (thunks.length > ITEM_LIMIT) throw new I.RangeError(`parallel() got ${thunks.length} items; the limit is ${ITEM_LIMIT} per call`)
    for (const t of thunks) {
      if (typeof t !== 'function') {
        if (t !== null && (typeof t === 'object' || typeof t === 'function') && typeof t.then === 'function') {
          throw new I.TypeError('parallel() expects an array of functions, not promises. Wrap each call: () => agent(...)')
        }
        throw new I.TypeError('parallel() expects an array of functions')
      }
    }
    const settled = await Promise.allSettled(thunks.map((t) => {
      try {
        return Promise.resolve(t())
      } catch (e) {
        return Promise.reject(e)
      }
    }))
    let overBudget = 0
    const out = settled.map((r, i) => {
      if (r.status === 'fulfilled') return r.value
      if (r.reason && r.reason.name === 'WorkflowBudgetExceededError') overBudget++
      else log(`parallel[${i}] failed: ${errMessage(r.reason)}`)
      return null
    })
    if (overBudget) log(`parallel: ${overBudget} ${overBudget === 1 ? 'slot' : 'slots'} dropped — token budget exceeded`)
    return I.Array.from(out)
  }

  const pipeline = async (items, ...stages) => {
    if (!Array.isArray(items)) throw new I.TypeError('pipeline() expects an array of items')
    if (items.length > ITEM_LIMIT) throw new I.RangeError(`pipeline() got ${items.length} items; the limit is ${ITEM_LIMIT} per call`)
    if (!stages.every((s) => typeof s === 'function')) throw new I.TypeError('pipeline() stages must be functions')
    let overBudget = 0
    const run = async (item, index) => {
      let carry = item
      for (const stage of stages) {
        if (carry === null) break // a null ends the item (v2.1.220 runtime); undefined does not
        try {
          carry = await stage(carry, item, index)
        } catch (e) {
          if (e && e.name === 'WorkflowBudgetExceededError') overBudget++
          else log(`pipeline[${index}] failed: ${errMessage(e)}`)
          return null
        }
      }
      return carry
    }
    const out = await Promise.all(items.map(run))
    if (overBudget) log(`pipeline: ${overBudget} ${overBudget === 1 ? 'slot' : 'slots'} dropped — token budget exceeded`)
    return I.Array.from(out)
  }

  const phase = (title) => {
    if (child) return // phase() does nothing inside a child workflow
    state.phase = String(title)
    state.phases.push(state.phase)
  }

  const workflow = async (nameOrRef, childArgs) => {
    if (child) throw new I.Error('workflow() nesting is one level only: a child workflow cannot start another')
    const dir = path.dirname(scriptPath)
    let file
    if (typeof nameOrRef === 'string') file = path.join(dir, nameOrRef + '.js')
    else if (isObject(nameOrRef) && typeof nameOrRef.scriptPath === 'string') file = path.resolve(dir, nameOrRef.scriptPath)
    else throw new I.TypeError('workflow() expects a name or {scriptPath}')
    if (!fs.existsSync(file)) {
      throw new I.Error(`workflow(): unknown workflow ${JSON.stringify(String(nameOrRef.scriptPath ?? nameOrRef))} (the test host looks for ${file})`)
    }
    let sub
    try {
      sub = instantiate(state, file, childArgs === undefined ? undefined : JSON.stringify(childArgs), { child: true })
    } catch (e) {
      throw new I.Error(`workflow(): ${errMessage(e)}`)
    }
    return toRealm(await sub.run())
  }

  const formatArgs = (...xs) => util.formatWithOptions({ colors: false, depth: 4 }, ...xs)
  const consoleShim = Object.freeze({
    log: (...xs) => log(formatArgs(...xs)),
    info: (...xs) => log(formatArgs(...xs)),
    warn: (...xs) => log(formatArgs(...xs)),
    error: (...xs) => log(formatArgs(...xs)),
    debug: (...xs) => log(formatArgs(...xs)),
  })
  const setTimeoutShim = (fn, ms, ...rest) => {
    if (typeof fn !== 'function') throw new I.TypeError('setTimeout expects a function')
    return state.clock.schedule((Number(ms) || 0) / 1000, () => {
      try {
        fn(...rest)
      } catch (e) {
        log(`setTimeout callback failed: ${errMessage(e)}`)
      }
    })
  }
  const budget = Object.freeze({
    total: state.budgetTotal,
    spent: () => state.spent,
    remaining: () => (state.budgetTotal === null ? Infinity : Math.max(0, state.budgetTotal - state.spent)),
  })

  Object.assign(ctx, {
    agent,
    parallel,
    pipeline,
    phase,
    log,
    args: argsJson === undefined ? undefined : I.JSON.parse(argsJson),
    budget,
    workflow,
    console: consoleShim,
    setTimeout: setTimeoutShim,
    clearTimeout: (id) => state.clock.cancel(id),
  })

  let script
  try {
    // On line 1, so that line numbers in errors are the script file's own.
    script = new vm.Script("(async () => {'use strict';" + body + '\n})()', { filename: scriptPath })
  } catch (e) {
    throw new LoadError(`${e.name}: ${e.message}`)
  }
  return { meta, run: () => script.runInContext(ctx, { timeout: SYNC_SLICE_MS }) }
}

/** Run the body to completion under the virtual clock. */
async function drive (state, promise) {
  let outcome = null
  promise.then((value) => { outcome = { value } }, (error) => { outcome = { error } })
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve)) // every pending microtask has run
    if (outcome !== null) return outcome
    if (!state.clock.fireNext()) {
      return { error: new Error('the script is waiting for a promise that never settles') }
    }
  }
}

// ------------------------------------------------------------------ command line

const USAGE = 'usage: node host.mjs --script S.js [--fake F.json] [--args A.json] [--out OUT.json] [--budget-total N]' +
  '\n       node host.mjs --batch JOBS.json [--out OUT.json]'

function parseArgv (argv) {
  const opts = {}
  const names = { '--script': 'script', '--fake': 'fake', '--args': 'args', '--out': 'out', '--budget-total': 'budgetTotal',
    '--batch': 'batch' }
  for (let i = 0; i < argv.length; i++) {
    const name = names[argv[i]]
    if (!name || i + 1 >= argv.length) throw new Error(argv[i] === '--help' ? USAGE : `unknown or incomplete option ${argv[i]}\n${USAGE}`)
    opts[name] = argv[++i]
  }
  if (!opts.script && opts.batch === undefined) throw new Error(`--script is required\n${USAGE}`)
  if (opts.budgetTotal !== undefined) {
    const n = Number(opts.budgetTotal)
    if (!Number.isFinite(n) || n < 0) throw new Error(`--budget-total: expected a number >= 0, got ${opts.budgetTotal}`)
    opts.budgetTotal = n
  }
  return opts
}

function readSetup (opts) {
  let spec = parseFake({ rules: [], default: 'schema' }, '<default>')
  if (opts.fake !== undefined) {
    let text
    try {
      text = fs.readFileSync(opts.fake, 'utf8')
    } catch (e) {
      throw new FakeFileError(`fake file ${opts.fake}: cannot read it: ${errMessage(e)}`)
    }
    spec = loadFakeText(text, opts.fake)
  }
  let argsJson
  if (opts.args !== undefined) {
    let text, data
    try {
      text = fs.readFileSync(opts.args, 'utf8')
      data = JSON.parse(text)
    } catch (e) {
      throw new Error(`args file ${opts.args}: ${errMessage(e)}`)
    }
    const deep = tooDeepAt(text)
    if (deep >= 0) { // as `wf run --args` refuses it (JSON.stringify below would overflow)
      const { line, column } = lineColumn(text, deep)
      throw new Error(`args file ${opts.args}:${line}:${column}: not valid JSON: ${TOO_DEEP}`)
    }
    argsJson = JSON.stringify(data)
  }
  return { spec, argsJson }
}

function errorText (e) {
  if (e !== null && typeof e === 'object' && typeof e.message === 'string') {
    return typeof e.name === 'string' && e.name ? `${e.name}: ${e.message}` : e.message
  }
  return String(e)
}

/** Run one script under a fresh state: the report main() prints. */
export async function runScript (scriptPath, spec, argsJson, budgetTotal = null, { quiet = false } = {}) {
  const state = {
    fake: spec,
    counters: [],
    calls: [],
    logs: [],
    phases: [],
    phase: null,
    started: 0,
    spent: 0,
    budgetTotal,
    clock: new VirtualClock(),
  }
  const report = { meta: null, result: null, error: null }
  const say = (text) => { if (!quiet) process.stderr.write(text) }
  try {
    const top = instantiate(state, scriptPath, argsJson)
    report.meta = top.meta
    const outcome = await drive(state, top.run())
    if ('error' in outcome) {
      report.error = errorText(outcome.error)
      const where = outcome.error && typeof outcome.error.stack === 'string' ? outcome.error.stack.split('\n')[1] ?? '' : ''
      say(`host: the workflow script threw: ${report.error}${where ? '\n' + where : ''}\n`)
    } else {
      try {
        report.result = outcome.value === undefined ? null : copy(outcome.value)
      } catch (e) {
        report.error = `the result is not JSON-serialisable: ${errMessage(e)}`
      }
    }
  } catch (e) {
    report.error = e instanceof LoadError ? `cannot load ${scriptPath}: ${e.message}` : errorText(e)
    say(`host: ${report.error}\n`)
  }
  return {
    meta: report.meta,
    result: report.result,
    error: report.error,
    calls: state.calls,
    logs: state.logs,
    phases: state.phases,
    agents_started: state.started,
    virtual_time: state.clock.now,
  }
}

/** --batch FILE: a JSON array of {script, fake?, args?, budget_total?}; one report each,
 * in order, as a JSON array (thousands of runs in one process, for the soundness suite). */
async function runBatch (file) {
  const jobs = JSON.parse(fs.readFileSync(file, 'utf8'))
  if (!Array.isArray(jobs)) throw new Error(`--batch ${file}: expected a JSON array of jobs`)
  const reports = []
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]
    const spec = parseFake(job.fake ?? { rules: [], default: 'schema' }, `${file}[${i}].fake`)
    const argsJson = job.args === undefined ? undefined : JSON.stringify(job.args)
    reports.push(await runScript(job.script, spec, argsJson, job.budget_total ?? null, { quiet: true }))
  }
  return reports
}

async function main (argv) {
  let opts, setup
  try {
    opts = parseArgv(argv)
    if (opts.batch !== undefined) {
      const output = JSON.stringify(await runBatch(opts.batch))
      if (opts.out) fs.writeFileSync(opts.out, output + '\n')
      else process.stdout.write(output + '\n')
      return 0
    }
    setup = readSetup(opts)
  } catch (e) {
    process.stderr.write(`host: ${errMessage(e)}\n`)
    return 2
  }
  const report = await runScript(opts.script, setup.spec, setup.argsJson, opts.budgetTotal ?? null)
  const output = JSON.stringify(report)
  if (opts.out) fs.writeFileSync(opts.out, output + '\n')
  else process.stdout.write(output + '\n')
  return report.error === null ? 0 : 1
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2))
}
