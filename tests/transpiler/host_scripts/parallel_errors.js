export const meta = { name: 'parallel-errors', description: 'parallel() argument checks and the 4,096-item limit' }
const errors = {}
const attempt = async (key, f) => {
  try {
    await f()
    errors[key] = null
  } catch (e) {
    errors[key] = `${e.name}: ${e.message}`
  }
}
await attempt('notArray', () => parallel('x'))
await attempt('promises', () => parallel([Promise.resolve(1)]))
await attempt('values', () => parallel([1, 2]))
await attempt('tooMany', () => parallel(Array.from({ length: 4097 }, () => () => 1)))
await attempt('pipelineTooMany', () => pipeline(Array.from({ length: 4097 }, (_, i) => i), (x) => x))
await attempt('pipelineNotArray', () => pipeline('abc', (x) => x))
const empty = await parallel([])
const full = await parallel(Array.from({ length: 4096 }, (_, i) => () => i))
const fullPipeline = await pipeline(Array.from({ length: 4096 }, (_, i) => i), (x) => x + 1)
return { errors, empty, fullLength: full.length, last: full[4095], pipelineLast: fullPipeline[4095] }
