import type * as z from 'zod'

/** Render a zod issue path as `members[0].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`)

const expectedNames: Record<string, string> = {
  int: 'integer',
  nonoptional: 'value',
}

/**
 * Per-parse error map: turns zod's generic messages into sentences a developer can act on. Messages set on
 * a schema itself (the name rules) take precedence over these.
 */
export function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required'
      return `must be ${article(expectedNames[issue.expected] ?? issue.expected)}`
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`
    case 'unrecognized_keys':
      return `has unknown keys ${issue.keys.join(', ')}`
    default:
      return undefined
  }
}

/** `field: what is wrong`, from the first issue of a failed parse. */
export function formatIssues(error: z.ZodError, input: unknown, discriminator = 'type'): string {
  const issue = error.issues[0]
  if (!issue) return 'is invalid'
  if (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === discriminator) {
    const value = (input as Record<string, unknown>)[discriminator]
    if (value === undefined) return `${discriminator}: is required`
    const options = (issue as { options?: unknown[] }).options ?? []
    return `${discriminator}: must be one of ${options.join(', ')} (got ${JSON.stringify(value)})`
  }
  const path = formatPath(issue.path)
  return path === '' ? issue.message : `${path}: ${issue.message}`
}
