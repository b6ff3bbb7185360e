import type * as z from 'zod'

/** Render a zod issue path as `members[0].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else {
      // Keys in a path can be the peer's own (a record's keys): bound each one.
      const name = String(key)
      const shown = name.length > 32 ? `${name.slice(0, 32)}…` : name
      out += out === '' ? shown : `.${shown}`
    }
  }
  return out
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`)

/** Longest excerpt of a received string that an error message quotes. */
const EXCERPT_CHARS = 32
/** Longest such excerpt once quoted and escaped. */
const QUOTED_CHARS = 2 * EXCERPT_CHARS

/** `text` quoted as JSON, as many whole characters (escapes included) as fit in `max`, then `…`. */
function quoteWithin(text: string, max: number): string {
  let out = ''
  for (const char of text) {
    const escaped = JSON.stringify(char).slice(1, -1)
    if (out.length + escaped.length + 3 > max) return `"${out}…"`
    out += escaped
  }
  return `"${out}"`
}

/**
 * A received value as an error message may quote it: bounded whatever the value, and never recursing
 * into it (a peer's value can be 60 KiB long or nest thousands of levels deep). Strings are quoted and
 * cut at {@link EXCERPT_CHARS}; numbers and booleans are shown; anything else is named by its type.
 */
export function excerpt(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > EXCERPT_CHARS ? `${value.slice(0, EXCERPT_CHARS)}…` : value
    const quoted = JSON.stringify(cut)
    // Escapes can make the quote six times longer than the text (a string of NULs): cut it again there.
    return quoted.length <= QUOTED_CHARS ? quoted : quoteWithin(cut, QUOTED_CHARS)
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return article(typeof value)
}

/** An error message never grows past this, whatever the frame held. */
const MAX_MESSAGE_CHARS = 300

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
    case 'unrecognized_keys': {
      // The keys are the peer's: quote a few, each bounded.
      const shown = issue.keys.slice(0, 5).map(excerpt).join(', ')
      return `has unknown keys ${shown}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ''}`
    }
    default:
      return undefined
  }
}

/** The refusal of a frame whose discriminator (`type`) names no message: the same for every decoder. */
export function unknownTypeText(value: unknown, options: readonly string[], discriminator = 'type'): string {
  if (value === undefined) return `${discriminator}: is required`
  return boundText(`${discriminator}: must be one of ${options.join(', ')} (got ${excerpt(value)})`)
}

/** An error text cut to {@link MAX_MESSAGE_CHARS}. */
export function boundText(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text
}

/** `field: what is wrong`, from the first issue of a failed parse. */
export function formatIssues(error: z.ZodError, input: unknown, discriminator = 'type'): string {
  const issue = error.issues[0]
  if (!issue) return 'is invalid'
  if (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === discriminator) {
    const options = (issue as { options?: string[] }).options ?? []
    return unknownTypeText((input as Record<string, unknown>)[discriminator], options, discriminator)
  }
  const path = formatPath(issue.path.slice(0, 8))
  return boundText(path === '' ? issue.message : `${path}: ${issue.message}`)
}
