/** A request's first answer, kept to answer a resend of an idempotent request with it. */
export type RememberedReply = { output: unknown } | { error: { code: string; message: string } }

/**
 * The replies of idempotent requests, by key (user, name and request id), so a resend after a reconnect
 * is answered with the first result instead of running the handler again. Bounded in count and age: the
 * least recently stored leave first, and none outlives `ttlMs` (PROTOCOL.md, "Requests", says where the
 * guarantee stops). Requests still running are tracked too, so a resend that arrives meanwhile waits for
 * the first run instead of starting a second.
 */
export class RequestDedupe {
  readonly #done = new Map<string, { reply: RememberedReply; expiresAt: number }>()
  readonly #running = new Map<string, ((reply: RememberedReply | undefined) => void)[]>()

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
  ) {}

  /** How many replies are remembered (for tests and bounds). */
  get size(): number {
    return this.#done.size
  }

  /** The remembered reply for `key`, if it is still fresh. */
  get(key: string, now: number): RememberedReply | undefined {
    const entry = this.#done.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > now) return entry.reply
    this.#done.delete(key)
    return undefined
  }

  /**
   * Whether a run for `key` is in progress; if so, `waiter` gets its reply (undefined when the run ended
   * without one: an error frame, which is not remembered).
   */
  join(key: string, waiter: (reply: RememberedReply | undefined) => void): boolean {
    const waiters = this.#running.get(key)
    if (waiters === undefined) return false
    waiters.push(waiter)
    return true
  }

  /** A run for `key` starts. */
  begin(key: string): void {
    this.#running.set(key, [])
  }

  /** The run for `key` ended: remember its reply (when it has one) and hand it to who waited. */
  end(key: string, reply: RememberedReply | undefined, now: number): void {
    const waiters = this.#running.get(key) ?? []
    this.#running.delete(key)
    if (reply !== undefined && this.maxEntries > 0) {
      this.#done.delete(key)
      this.#done.set(key, { reply, expiresAt: now + this.ttlMs })
      // Insertion order is age order (one ttl for all): the oldest are first, expired or not.
      for (const [old, entry] of this.#done) {
        if (this.#done.size <= this.maxEntries && entry.expiresAt > now) break
        this.#done.delete(old)
      }
    }
    for (const waiter of waiters) waiter(reply)
  }
}
