export const meta = { name: 'determinism', description: 'clock and randomness throw; no code generation; only the documented globals' }
const out = {}
const probe = (key, f) => {
  try {
    out[key] = { ok: f() }
  } catch (e) {
    out[key] = { error: `${e.name}: ${e.message}` }
  }
}
probe('dateNow', () => Date.now())
probe('newDate', () => new Date())
probe('bareDate', () => Date())
probe('fixedDate', () => new Date(0).toISOString())
probe('dateParse', () => Date.parse('2020-01-01T00:00:00Z'))
probe('dateUtc', () => Date.UTC(2020, 0, 1))
probe('random', () => Math.random())
probe('eval', () => eval('1 + 1'))
probe('newFunction', () => new Function('return 1')())
probe('undeclared', () => { leaked = 1; return leaked })
probe('missing', () => ['require', 'process', 'fetch', 'URL', 'Buffer', 'TextEncoder', 'structuredClone',
  'WebAssembly', 'queueMicrotask', 'SharedArrayBuffer', 'setInterval', 'module']
  .filter((name) => typeof globalThis[name] !== 'undefined'))
probe('present', () => ['agent', 'parallel', 'pipeline', 'phase', 'log', 'budget', 'workflow', 'console',
  'setTimeout', 'clearTimeout', 'JSON', 'Math', 'Map', 'Set', 'Promise']
  .filter((name) => typeof globalThis[name] === 'undefined'))
probe('metaVisible', () => meta.name)
return out
