// Helpers the compiled workflow scripts use, one block per `// @helper NAME` marker.
// The emitter copies only the blocks a script needs (and the blocks those use), in this
// order, between the schemas and the argument preamble. Each implements one rule of
// docs/semantics.md; the Python interpreter implements the same rules.
// Rules for this file: arrow functions and const only; no Date, Math.random, this, class,
// Function, eval, import or require (the scripts run in Claude Code's workflow sandbox).

// @helper iter
// Iterating None yields nothing; a string yields its code points, a record (or a map)
// its keys.
const iter = (v) => (v == null ? [] : Array.isArray(v) ? v : typeof v === 'string' ? Array.from(v)
  : v instanceof Map ? [...v.keys()] : typeof v === 'object' ? Object.keys(v) : [])

// @helper stringify
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

// @helper text
// text(v): a value as it reads in a prompt, a log line or join(): strings as they are,
// None as null, lists, records and maps as 2-space JSON.
const text = (v) => (v == null ? 'null' : typeof v === 'string' ? v
  : typeof v === 'object' ? stringify(v, 2) : String(v))

// @helper json
const json = (v) => stringify(v ?? null, 2)

// @helper jsonIndent
// json(v, indent=N): N spaces (at most 10); 0 or None is the compact form.
const jsonIndent = (v, indent) => stringify(v ?? null, indent)

// @helper truthy
// Python's truth, which the .wf uses: None, false, 0, '', [] and {} are false.
const truthy = (v) => (Array.isArray(v) ? v.length > 0 : v instanceof Map ? v.size > 0
  : v !== null && typeof v === 'object' ? Object.keys(v).length > 0 : Boolean(v))

// @helper mapOf
// A map value: a Map whose keys are in code point order (how maps iterate in both
// targets), built from [key, value] pairs.
const mapOf = (pairs) => new Map([...pairs].sort((p, q) => compareText(p[0], q[0])))

// @helper equal
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

// @helper compareText
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

// @helper canonical
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

// @helper compare
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

// @helper ranked
// compare() for a key whose type is a string union: values rank by their position in
// the declared order; values not in it (None included) rank after it, by compare().
const rankIn = (order, a, b) => {
  const ia = typeof a === 'string' ? order.indexOf(a) : -1
  const ib = typeof b === 'string' ? order.indexOf(b) : -1
  if (ia >= 0 && ib >= 0) return ia === ib ? 0 : ia < ib ? -1 : 1
  if (ia >= 0 || ib >= 0) return ia >= 0 ? -1 : 1
  return compare(a, b)
}
const ranked = (order) => (a, b) => rankIn(order, a, b)

// @helper rankedTuple
// The same for a tuple key: one order (or null, for natural order) per component.
const rankedTuple = (orders) => (a, b) => {
  if (!Array.isArray(a) || !Array.isArray(b)) return compare(a, b)
  for (let i = 0; i < a.length && i < b.length; i++) {
    const c = orders[i] ? rankIn(orders[i], a[i], b[i]) : compare(a[i], b[i])
    if (c !== 0) return c
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

// @helper sort
// A stable sort by the key (`by`, or the item itself); reverse is descending, still stable.
const sort = (xs, by = null, cmp = compare, reverse = false) => {
  const keyed = iter(xs).map((x) => [by === null ? x : by(x), x])
  keyed.sort((p, q) => (reverse ? cmp(q[0], p[0]) : cmp(p[0], q[0])))
  return keyed.map((p) => p[1])
}

// @helper top
const top = (where, xs, n, by = null, cmp = compare) =>
  cutLog(where, iter(xs).length, sort(xs, by, cmp, true).slice(0, Math.max(0, n ?? 0)))

// @helper unique
// The first item of each distinct canonical(key), in order.
const unique = (xs, by = null) => {
  const seen = new Set()
  return iter(xs).filter((x) => {
    const key = canonical(by === null ? x : by(x))
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

// @helper min
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

// @helper max
const max = (xs, by = null, cmp = compare) => pickExtreme(xs, by, cmp, 1)

// @helper len
const len = (v) => (v == null ? 0 : Array.isArray(v) ? v.length : typeof v === 'string' ? Array.from(v).length
  : v instanceof Map ? v.size : typeof v === 'object' ? Object.keys(v).length : 0)

// @helper flatten
// One level: lists are spliced, other items kept, None skipped.
const flatten = (xss) => iter(xss).flatMap((x) => (Array.isArray(x) ? x : x == null ? [] : [x]))

// @helper cutLog
// One log line when take() or top() cuts a list: `<where>: kept N of M items`.
const cutLog = (where, total, kept) => {
  if (kept.length < total) log(`${where}: kept ${kept.length} of ${total} items`)
  return kept
}

// @helper take
const take = (where, xs, n) => cutLog(where, iter(xs).length, iter(xs).slice(0, Math.max(0, n ?? 0)))

// @helper join
const join = (xs, sep = '') => iter(xs).map((x) => text(x)).join(sep)

// @helper lower
const lower = (s) => (typeof s === 'string' ? s.toLowerCase() : null)

// @helper upper
const upper = (s) => (typeof s === 'string' ? s.toUpperCase() : null)

// @helper strip
// Only ' \t\n\r\f\v', as Python's str.strip() would with those characters (JS trim()
// removes more).
const strip = (s) => (typeof s === 'string' ? s.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '') : null)

// @helper sum
const sum = (xs) => iter(xs).reduce((s, x) => (typeof x === 'number' ? s + x : s), 0)

// @helper any
const any = (xs) => iter(xs).some((x) => truthy(x))

// @helper all
const all = (xs) => iter(xs).every((x) => truthy(x))

// @helper int
// A number truncated toward zero; a string of decimal digits (optionally signed) parsed;
// anything else None.
const int = (v) => (typeof v === 'number' ? (Number.isFinite(v) ? Math.trunc(v) : null)
  : typeof v === 'string' && /^[+-]?[0-9]+$/.test(v) ? Number(v) : null)

// @helper range
// [a..b): bounds truncated toward zero, None counted as 0 (as Python's int() of them).
const range = (a, b) => {
  const count = (v) => (v == null ? 0 : Math.trunc(v))
  const [lo, hi] = b === undefined ? [0, count(a)] : [count(a), count(b)]
  const out = []
  for (let i = lo; i < hi; i++) out.push(i)
  return out
}

// @helper chunks
const chunks = (xs, n) => {
  const list = iter(xs)
  const size = Math.max(1, n ?? 1)
  const out = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

// @helper keys
const keys = (r) => (r instanceof Map ? [...r.keys()]
  : r !== null && typeof r === 'object' && !Array.isArray(r) ? Object.keys(r) : [])

// @helper values
// A map's values, in key order.
const values = (m) => (m instanceof Map ? [...m.values()] : [])

// @helper entries
// A map's entries as {key, value} records, in key order.
const entries = (m) => (m instanceof Map ? [...m].map(([key, value]) => ({ key, value })) : [])

// @helper mapKey
// A value as a map key: a string as it is, anything else as text() writes it.
const mapKey = (k) => (typeof k === 'string' ? k : text(k))

// @helper groupBy
// group_by(xs, by=k): the items of each key, in item order; the keys in code point order.
const groupBy = (xs, by) => {
  const groups = new Map()
  for (const x of iter(xs)) {
    const k = mapKey(by(x))
    if (groups.has(k)) groups.get(k).push(x)
    else groups.set(k, [x])
  }
  return mapOf(groups)
}

// @helper countBy
// count_by(xs, by=k): how many items have each key.
const countBy = (xs, by) => {
  const counts = new Map()
  for (const x of iter(xs)) {
    const k = mapKey(by(x))
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  return mapOf(counts)
}

// @helper toMap
// to_map(pairs): a map from {key, value} records; a repeated key: the last one wins.
const toMap = (pairs) => {
  const out = new Map()
  for (const p of iter(pairs)) {
    if (p !== null && typeof p === 'object' && !Array.isArray(p)) out.set(mapKey(itemAt(p, 'key')), itemAt(p, 'value'))
  }
  return mapOf(out)
}

// @helper plain
// The workflow's result as Claude Code receives it: every map an object (the same JSON).
const plain = (v) => (v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]))
  : Array.isArray(v) ? v.map(plain)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v)

// @helper splitText
// split(s, sep, max=N): the pieces between separators; without a separator (or with
// None) the words between runs of ' \t\n\r\f\v'; an empty separator gives the code points;
// cut at N with a log line.
const splitText = (where, n, s, sep = null) => {
  if (typeof s !== 'string') return []
  const pieces = sep == null ? s.split(/[ \t\n\r\f\v]+/).filter((w) => w !== '')
    : text(sep) === '' ? Array.from(s) : s.split(text(sep))
  return cutLog(where, pieces.length, pieces.slice(0, Math.max(0, n ?? 0)))
}

// @helper linesOf
// lines(s, max=N): split at \n, a \r before it dropped, no last empty line; cut at N.
const linesOf = (where, n, s) => {
  if (typeof s !== 'string' || s === '') return []
  const pieces = s.split('\n')
  if (pieces[pieces.length - 1] === '') pieces.pop()
  const out = pieces.map((x) => (x.endsWith('\r') ? x.slice(0, -1) : x))
  return cutLog(where, out.length, out.slice(0, Math.max(0, n ?? 0)))
}

// @helper replaceText
// Every occurrence, left to right, not overlapping, as plain text; an empty old: unchanged.
const replaceText = (s, old, neu) => (typeof s !== 'string' ? null
  : text(old) === '' ? s : s.split(text(old)).join(text(neu)))

// @helper findText
// The code-point index of the first occurrence of sub, -1 when there is none.
const findText = (s, sub) => {
  if (typeof s !== 'string') return -1
  const i = s.indexOf(text(sub))
  return i < 0 ? -1 : Array.from(s.slice(0, i)).length
}

// @helper containsText
const containsText = (s, sub) => typeof s === 'string' && s.includes(text(sub))

// @helper startsWith
const startsWith = (s, prefix) => typeof s === 'string' && s.startsWith(text(prefix))

// @helper endsWith
const endsWith = (s, suffix) => typeof s === 'string' && s.endsWith(text(suffix))

// @helper slugOf
// ASCII letters lowered, ASCII letters and digits kept, each run of anything else one '-',
// none at either end.
const slugOf = (s) => (typeof s !== 'string' ? null
  : s.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[^a-z0-9]+/gu, '-').replace(/^-+|-+$/g, ''))

// @helper roundTo
// The nearest number with d decimals (0..20), ties away from zero, from x's exact value
// (toFixed); from 1e21 on, x itself; not a number: None.
const roundDigits = (d) => Math.min(20, Math.max(0, Math.trunc(d ?? 0)))
const roundTo = (x, d = 0) => {
  if (typeof x !== 'number' || !Number.isFinite(x)) return null
  if (Math.abs(x) >= 1e21) return x
  const r = Number(x.toFixed(roundDigits(d)))
  return r === 0 ? 0 : r
}

// @helper fixedText
// x as text with exactly d decimals, rounded as round() does.
const fixedText = (x, d = 0) => (typeof x !== 'number' || !Number.isFinite(x) ? null
  : (x === 0 ? 0 : x).toFixed(roundDigits(d)))

// @helper reMatches
// The patterns are checked and translated by wflang/dsl/builtins/regex_dialect.py.
const reMatches = (s, re) => typeof s === 'string' && re.test(s)

// @helper reReplace
// Every match replaced by neu, as plain text (a function: no `$1` references).
const reReplace = (s, re, neu) => (typeof s !== 'string' ? null : s.replace(re, () => text(neu)))

// @helper reFindall
// The text of every match (re has the g flag), cut at N with a log line.
const reFindall = (where, n, s, re) => {
  if (typeof s !== 'string') return []
  const pieces = Array.from(s.matchAll(re), (m) => m[0])
  return cutLog(where, pieces.length, pieces.slice(0, Math.max(0, n ?? 0)))
}

// @helper baseName
// Paths, URLs and hash (baseName .. hashText; wflang/dsl/builtins/paths.py) are written
// out rather than taken from Node's path, URL or crypto: the sandbox may lack them, and
// these rules look only at ASCII delimiters, so UTF-16 indices cut where Python's
// code-point indices do. basename: the last part, trailing '/' ignored.
const baseName = (p) => {
  if (typeof p !== 'string') return null
  const q = p.replace(/\/+$/, '')
  return q.slice(q.lastIndexOf('/') + 1)
}

// @helper dirName
// All before the last part without its trailing '/'; '.' (or '/') when there is none.
const dirName = (p) => {
  if (typeof p !== 'string') return null
  const q = p.replace(/\/+$/, '')
  const i = q.lastIndexOf('/')
  if (i < 0) return p.startsWith('/') ? '/' : '.'
  return q.slice(0, i).replace(/\/+$/, '') || '/'
}

// @helper extensionOf
// From the basename's last '.', when something other than '.' comes before it.
const extensionOf = (p) => {
  const b = baseName(p)
  if (b === null) return null
  const i = b.lastIndexOf('.')
  return i > 0 && /[^.]/.test(b.slice(0, i)) ? b.slice(i) : ''
}

// @helper stemOf
const stemOf = (p) => {
  const b = baseName(p)
  return b === null ? null : b.slice(0, b.length - extensionOf(p).length)
}

// @helper urlParts
// scheme://[userinfo@]host[:port]path[?query][#fragment], or null (docs/semantics.md).
const urlRegName = /^(?:[A-Za-z0-9._~!$&\x27()*+,;=-]|%[0-9A-Fa-f]{2})*$/
const urlParts = (u) => {
  if (typeof u !== 'string' || /[\x00-\x20\x7f\\]/.test(u)) return null
  const i = u.indexOf('://')
  if (i <= 0 || !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(u.slice(0, i))) return null
  const rest = u.slice(i + 3)
  const end = rest.search(/[/?#]/) < 0 ? rest.length : rest.search(/[/?#]/)
  let authority = rest.slice(0, end)
  let tail = rest.slice(end)
  let fragment = ''
  let query = ''
  const hashAt = tail.indexOf('#')
  if (hashAt >= 0) { fragment = tail.slice(hashAt + 1); tail = tail.slice(0, hashAt) }
  const queryAt = tail.indexOf('?')
  if (queryAt >= 0) { query = tail.slice(queryAt + 1); tail = tail.slice(0, queryAt) }
  const at = authority.split('@')
  if (at.length > 2) return null
  if (at.length === 2) {
    if (!/^(?:[A-Za-z0-9._~!$&\x27()*+,;=:-]|%[0-9A-Fa-f]{2})*$/.test(at[0])) return null
    authority = at[1]
  }
  let host = authority
  let port = null
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']') + 1
    host = authority.slice(0, close)
    const after = authority.slice(close)
    if (close === 0 || !/^\[[0-9A-Fa-f:.]+\]$/.test(host) || (after && !after.startsWith(':'))) return null
    port = after ? after.slice(1) : null
  } else if (authority.includes(':')) {
    const colon = authority.lastIndexOf(':')
    host = authority.slice(0, colon)
    port = authority.slice(colon + 1)
    if (!urlRegName.test(host)) return null
  } else if (!urlRegName.test(host)) return null
  if (port !== null && !(/^[0-9]{1,5}$/.test(port) && Number(port) <= 65535)) return null
  return { scheme: u.slice(0, i).toLowerCase(), host: host.toLowerCase(), port: port === null ? null : Number(port),
    path: tail, query, fragment }
}

// @helper hashText
// FNV-1a, 64 bits (two 32-bit halves: no BigInt needed), over the UTF-8 of s, a lone
// surrogate as U+FFFD: 16 lowercase hex digits.
const hashText = (s) => {
  if (typeof s !== 'string') return null
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  const mix = (b) => {
    lo = (lo ^ b) >>> 0
    const a = lo * 0x1b3 // h * 0x100000001b3 = h * 0x1b3 + (h << 40), mod 2^64
    const low = a >>> 0
    hi = (hi * 0x1b3 + (a - low) / 4294967296 + lo * 256) >>> 0
    lo = low
  }
  for (const ch of s) {
    let c = ch.codePointAt(0)
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd
    if (c < 0x80) mix(c)
    else if (c < 0x800) { mix(0xc0 | (c >> 6)); mix(0x80 | (c & 63)) }
    else if (c < 0x10000) { mix(0xe0 | (c >> 12)); mix(0x80 | ((c >> 6) & 63)); mix(0x80 | (c & 63)) }
    else { mix(0xf0 | (c >> 18)); mix(0x80 | ((c >> 12) & 63)); mix(0x80 | ((c >> 6) & 63)); mix(0x80 | (c & 63)) }
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')
}

// @helper itemAt
// xs[i]: negative counts from the end, out of range is None; strings by code point;
// a record or a map by key (a missing key is None).
const itemAt = (xs, i) => {
  if (xs instanceof Map) return typeof i === 'string' && xs.has(i) ? xs.get(i) : null
  const list = typeof xs === 'string' ? Array.from(xs) : xs
  if (Array.isArray(list)) {
    if (typeof i !== 'number') return null
    const k = i < 0 ? list.length + i : i
    return k >= 0 && k < list.length ? list[k] ?? null : null
  }
  if (list !== null && typeof list === 'object' && typeof i === 'string') return Object.hasOwn(list, i) ? list[i] : null
  return null
}

// @helper sliceOf
// xs[lo:hi] with Python's rules (negative bounds, clamping); strings by code point.
const sliceOf = (xs, lo, hi) => {
  if (xs == null) return null
  const list = typeof xs === 'string' ? Array.from(xs) : xs
  const part = list.slice(lo ?? undefined, hi ?? undefined)
  return typeof xs === 'string' ? part.join('') : part
}

// @helper plus
// Arithmetic: any None operand gives None; + also joins two strings or two lists.
const plus = (a, b) => (a == null || b == null ? null : Array.isArray(a) ? [...a, ...b] : a + b)

// @helper minus
const minus = (a, b) => (a == null || b == null ? null : a - b)

// @helper times
const times = (a, b) => (a == null || b == null ? null : a * b)

// @helper divide
// x / 0 is None.
const divide = (a, b) => (a == null || b == null || b === 0 ? null : a / b)

// @helper modulo
// x % 0 is None; the result takes the sign of the divisor, as in Python.
const modulo = (a, b) => {
  if (a == null || b == null || b === 0) return null
  const r = a % b
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r
}

// @helper negate
const negate = (a) => (a == null ? null : -a)

// @helper merge
// a | b: the keys of a, then the new keys of b; b wins; None acts as {}.
const merge = (a, b) => ({ ...(a ?? {}), ...(b ?? {}) })

// @helper contains
// x in xs: an element (by equal()) of a list, a substring of a string, a key of a
// record; nothing is in None.
const contains = (xs, x) => (xs == null ? false
  : typeof xs === 'string' ? typeof x === 'string' && xs.includes(x)
    : Array.isArray(xs) ? xs.some((y) => equal(y, x))
      : xs instanceof Map ? typeof x === 'string' && xs.has(x)
      : typeof xs === 'object' ? typeof x === 'string' && Object.hasOwn(xs, x) : false)

// @helper bothValue
// `a and b` as a value: the deciding operand (b is evaluated only when a is truthy).
const bothValue = (a, b) => (truthy(a) ? b() : a)

// @helper eitherValue
// `a or b` as a value.
const eitherValue = (a, b) => (truthy(a) ? a : b())

// @helper budgetRemaining
// budget.remaining in the .wf: None when no token budget is set.
const budgetRemaining = () => (budget.total == null ? null : budget.remaining())

// @helper budgetTotal
const budgetTotal = () => budget.total ?? null

// @helper runStop
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

// @helper failRun
// `fail MESSAGE`: the error the script throws to end the run as failed. It is kept in
// runStop (unless the run already stopped), so when a parallel() or pipeline() turns the
// throw into a null slot, runParallel/runPipeline/oneByOne throw it again.
const failRun = (error) => {
  if (runStop.error === null) runStop.error = error
  return runStop.error
}

// @helper runParallel
const runParallel = async (thunks) => {
  const out = await parallel(thunks)
  endIfStopped()
  return out
}

// @helper runPipeline
const runPipeline = async (items, ...stages) => {
  const out = await pipeline(items, ...stages)
  endIfStopped()
  return out
}

// @helper boundGuard
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

// @helper fitAnswer
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
  // a literal union (`1 | 2 | 3`, `true | "auto"`): JSON equality, as fit.py's
  if (Array.isArray(s.enum) && !s.enum.some((o) => o === v)) return undefined
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

// @helper callAgent
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

// @helper orElse
// `agent ... else E`: the agent's answer, or E (a thunk, run only then) when it failed.
const orElse = async (answer, fallback) => {
  const value = await answer
  return value === null ? fallback() : value
}

// @helper dropFailed
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

// @helper logSkipped
// One log line when a fan-out's `stop when` skipped items: how many of how many.
const logSkipped = (where, skipped, total, why) => {
  const k = skipped.filter(Boolean).length
  if (k > 0) log(`${where}: ${k} of ${total} items skipped${why}`)
}

// @helper oneByOne
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

// @helper limiter
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

// @helper tally
// One reviewed item. A None verdict abstains (never a rejection); accepts(answer, r)
// says whether reviewer r accepted. Kept when accepts >= keep (default: a majority of
// the N reviewers; 'all': N); rejected when rejects > N - keep; else undecided.
const tally = (item, verdicts, keep, accepts) => {
  const n = verdicts.length
  const k = keep === 'all' ? n : keep ?? Math.floor(n / 2) + 1
  const cast = verdicts.filter((v) => v != null).length
  const yes = verdicts.filter((v, r) => v != null && accepts(v, r)).length
  const status = yes >= k ? 'kept' : cast - yes > n - k ? 'rejected' : 'undecided'
  return { item, status, accepts: yes, rejects: cast - yes, abstained: n - cast, verdicts }
}

// @helper reviewOutcome
// A review's value: the kept items in order, and the others with their tallies; one log line.
const reviewOutcome = (tallies, where) => {
  const kept = tallies.filter((t) => t.status === 'kept').map((t) => t.item)
  const dropped = tallies.filter((t) => t.status !== 'kept')
  const count = (status) => tallies.filter((t) => t.status === status).length
  log(`${where}: ${kept.length} kept, ${count('rejected')} rejected, ${count('undecided')} undecided of ${tallies.length}`)
  return { kept, dropped }
}

// @helper voteWinner
// The most frequent answer, grouped by canonical(); a tie goes to the group whose first
// answer came from the lowest voter. None answers abstain; below the quorum, no winner.
const voteWinner = (answers, quorum, where) => {
  const groups = new Map()
  for (const a of answers) {
    if (a == null) continue
    const key = canonical(a)
    const group = groups.get(key)
    if (group) group.count++
    else groups.set(key, { first: a, count: 1 })
  }
  let win = null
  for (const group of groups.values()) if (win === null || group.count > win.count) win = group
  const abstained = answers.filter((a) => a == null).length
  if (abstained > 0) log(`${where}: ${abstained} of ${answers.length} voters failed`)
  if (win === null || win.count < quorum) {
    log(`${where}: no answer reached the quorum of ${quorum}`)
    return null
  }
  return win.first
}

// @helper fieldOr
// accept/pick conditions when the answer's type is not known statically: the answer's
// field when it has one, else the variable of that name.
const fieldOr = (answer, name, fallback) => (answer !== null && typeof answer === 'object' &&
  !Array.isArray(answer) && Object.hasOwn(answer, name) ? answer[name] : fallback)

// @helper playBracket
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

// @helper checkPassed
// fix: a check passed when its result is not None and its `passed` field is truthy.
const checkPassed = (r) => r != null && truthy(r.passed ?? null)

// @helper fixOutcome
// The log line a `fix` ends on: how the check went, after how many attempts.
const fixOutcome = (passed, attempts, limit) => {
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
  if (passed) return attempts === 0 ? 'the check passed at once' : `the check failed, then passed after ${tries}`
  if (attempts < limit) return `the check still fails after ${tries} (stalled: the same result again)`
  return `the check still fails after ${tries}`
}

// @helper checksStalled
// fix ... stall S: the last S+1 check results are all equal (the same failure S times over).
const checksStalled = (checks, s) => checks.length > s &&
  checks.slice(-(s + 1)).every((c) => equal(c, checks[checks.length - 1]))

// @helper typeProblem
// Why v is not a value of the declared input type t, or null when it is (the wording of
// `wf run`, wflang/dsl/arguments.py). Types are 'str' | 'int' | 'float' | 'bool' or
// {type: 'int' | 'float', min, max, implicitMin} | {type: 'str', min, max} (a length) | {type: 'union', options} |
// {type: 'record', name, fields} | {type: 'list', item, max, min} | {type: 'map', value, max, min} |
// {type: 'optional', inner} | 'json' | {type: 'enum', options} (literals) | {type: 'anyOf', options, shown};
// a list max that is a string names an int input (its value is in `sizes`). Records are
// closed: an undeclared field is a problem unless `open` (a `run` child's arguments).
const kindOf = (v) => (v === null ? 'null' : typeof v === 'boolean' ? 'a boolean' : typeof v === 'number' ? 'a number'
  : typeof v === 'string' ? 'a string' : Array.isArray(v) ? 'a list' : 'an object')
const typeProblem = (v, t, where, sizes, open = false) => {
  const kind = typeof t === 'string' ? t : t.type
  if (kind === 'optional') return v === null ? null : typeProblem(v, t.inner, where, sizes, open)
  if (kind === 'json') return null // any JSON value, null included
  if (v === null) return `${where}: required, got null`
  if (kind === 'union' || kind === 'enum') {
    if (kind === 'union' ? typeof v === 'string' && t.options.includes(v) : t.options.some((o) => o === v)) return null
    const shown = JSON.stringify(v)
    return `${where}: expected one of ${t.options.map((o) => JSON.stringify(o)).join(', ')}, got ` +
      (shown.length <= 40 ? shown : shown.slice(0, 37) + '...')
  }
  if (kind === 'anyOf') {
    if (t.options.some((o) => typeProblem(v, o, where, sizes, open) === null)) return null
    const shown = JSON.stringify(v)
    return `${where}: expected ${t.shown}, got ` + (shown.length <= 40 ? shown : shown.slice(0, 37) + '...')
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

// @helper fitArgument
// An accepted argument with every record rebuilt as exactly its declared fields, in
// declared order (a missing optional field is null): keys() of it is what was declared.
const fitArgument = (v, t) => {
  if (v === null || typeof t === 'string') return v
  if (t.type === 'optional') return fitArgument(v, t.inner)
  if (t.type === 'anyOf') { // the first option it fits (closed records first), as wf run picks
    const first = t.options.find((o) => typeProblem(v, o, '', {}, false) === null) ??
      t.options.find((o) => typeProblem(v, o, '', {}, true) === null)
    return first === undefined ? v : fitArgument(v, first)
  }
  if (t.type === 'list') return Array.isArray(v) ? v.map((x) => fitArgument(x, t.item)) : v
  if (t.type === 'map') return mapOf(entriesOf(v).map(([k, x]) => [k, fitArgument(x, t.value)]))
  if (t.type === 'record' && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(t.fields).map(([k, ft]) => [k, fitArgument(Object.hasOwn(v, k) ? v[k] : null, ft)]))
  }
  return v
}

// @helper fromText
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

// @helper argsObject
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

// @helper argument
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
