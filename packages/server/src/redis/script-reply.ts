import { excerpt } from '@roomwire/protocol'

/**
 * A script's reply, read field by field in the order its Lua `return { ... }` lists them (a scalar reply
 * reads as a single field). Each read checks the field's type: our own script answering in another shape
 * is a bug, thrown naming the script, the field and what came, never cast past.
 */
export class ScriptReply {
  readonly #script: string
  readonly #raw: unknown
  readonly #fields: readonly unknown[]
  #next = 0

  constructor(script: string, raw: unknown) {
    this.#script = script
    this.#raw = raw
    this.#fields = Array.isArray(raw) ? raw : [raw]
  }

  /** Whether the whole reply is the status word `status` (a refusal such as `fenced`). */
  is(status: string): boolean {
    return this.#raw === status
  }

  /** An integer field. */
  int(): number {
    const value = this.#take()
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value
    throw this.#wrong(value, 'an integer')
  }

  /** A 0/1 field. */
  flag(): boolean {
    const value = this.int()
    if (value === 0 || value === 1) return value === 1
    throw this.#wrong(value, '0 or 1', this.#next - 1)
  }

  /** An integer field that holds one of `values`. */
  oneOf<const T extends number>(...values: T[]): T {
    const value = this.int()
    if ((values as number[]).includes(value)) return value as T
    throw this.#wrong(value, `one of ${values.join(', ')}`, this.#next - 1)
  }

  /** A string field. */
  string(): string {
    const value = this.#take()
    if (typeof value === 'string') return value
    throw this.#wrong(value, 'a string')
  }

  /** A string field, or nil (`false` or null as Redis hands nil over). */
  stringOrNil(): string | undefined {
    const value = this.#take()
    if (value === null || value === false) return undefined
    if (typeof value === 'string') return value
    throw this.#wrong(value, 'a string or nil')
  }

  /** A field that is a list of strings. */
  strings(): string[] {
    const value = this.#take()
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value
    throw this.#wrong(value, 'a list of strings')
  }

  /** A field that is itself a list, read the same way. */
  list(): ScriptReply {
    const value = this.#take()
    if (Array.isArray(value)) return new ScriptReply(`${this.#script}[${this.#next - 1}]`, value)
    throw this.#wrong(value, 'a list')
  }

  #take(): unknown {
    return this.#fields[this.#next++]
  }

  #wrong(value: unknown, expected: string, field = this.#next - 1): Error {
    return new Error(`${this.#script} replied ${excerpt(value)} in field ${field}; expected ${expected}`)
  }
}

/**
 * A MULTI's replies (`exec()`: one `[error, result]` per command) as one {@link ScriptReply}; a command's
 * error is thrown as it came.
 */
export function execReply(what: string, replies: [Error | null, unknown][] | null): ScriptReply {
  if (replies === null) throw new Error(`${what}: the transaction was discarded`)
  for (const [err] of replies) if (err !== null) throw err
  return new ScriptReply(
    what,
    replies.map(([, result]) => result),
  )
}
