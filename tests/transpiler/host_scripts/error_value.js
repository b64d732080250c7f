export const meta = { name: 'error-value', description: 'returning an error value is a normal result' }
return { error: 'args.files: required, a list of strings' }
