export const meta = { name: 'args-copy', description: 'args is a JSON deep copy in the script realm, undefined when absent' }
if (typeof args === 'undefined') return { type: 'undefined' }
if (typeof args !== 'object' || args === null) return { type: typeof args, value: args }
const before = JSON.stringify(args)
args.list.push('added in the script')
return {
  type: typeof args,
  realmObject: args instanceof Object,
  realmArray: args.list instanceof Array,
  before,
  after: args,
}
