/** Where a frame's text nests too deep: the offset of the bracket past the limit, and of the top-level value holding it. */
export interface NestingOverflow {
  /** Offset of the opening bracket that went past the limit. */
  at: number
  /** Offset where the top-level field's value holding it starts (0 when the frame itself is the culprit). */
  field: number
}

/**
 * Whether the JSON text `text` nests arrays and objects more than `limit` levels deep, read from the text
 * itself before `JSON.parse` builds anything: a 60 KiB frame can nest 30,000 levels, which `JSON.parse`
 * accepts and every later recursion over the result (serializing it again, comparing it, wording an
 * error about it) overflows the stack on. Exact for valid JSON; invalid JSON is refused by the parser
 * anyway. Cheap for the usual frame: a text with at most `limit` opening brackets cannot nest deeper, so
 * only frames with many brackets are read character by character. Returns undefined when within the limit.
 */
export function findNestingOverflow(text: string, limit: number): NestingOverflow | undefined {
  let opens = 0
  for (let i = text.indexOf('{'); i !== -1 && opens <= limit; i = text.indexOf('{', i + 1)) opens++
  for (let i = text.indexOf('['); i !== -1 && opens <= limit; i = text.indexOf('[', i + 1)) opens++
  if (opens <= limit) return undefined
  let depth = 0
  let field = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth === 2) field = i
      if (depth > limit) return { at: i, field }
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return undefined
}

/**
 * The name of the top-level field whose value starts at `valueStart` in a JSON object's text (the key
 * before the colon), or undefined when there is none (the frame is an array, or malformed).
 */
export function fieldNameBefore(text: string, valueStart: number): string | undefined {
  let i = valueStart - 1
  while (i >= 0 && /\s/.test(text[i]!)) i--
  if (text[i] !== ':') return undefined
  i--
  while (i >= 0 && /\s/.test(text[i]!)) i--
  if (text[i] !== '"') return undefined
  const close = i
  // Keys are short in every message this protocol defines; look back a bounded distance only.
  for (let j = close - 1; j >= 0 && j >= close - 80; j--) {
    if (text[j] !== '"') continue
    let slashes = 0
    for (let k = j - 1; k >= 0 && text[k] === '\\'; k--) slashes++
    if (slashes % 2 === 1) continue
    try {
      return JSON.parse(text.slice(j, close + 1)) as string
    } catch {
      return undefined
    }
  }
  return undefined
}

/** Whether `value` nests arrays or objects more than `limit` levels deep (never recurses past `limit`). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (limit <= 0) return true
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, limit - 1)) return true
    return false
  }
  for (const key in value) {
    if (nestsDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true
  }
  return false
}
