import type { RoomServerError } from './errors'

/** One request a caller is owed an answer for: a handler running for it, or a resend waiting for one. */
export interface Owed {
  /** The request id the caller chose: what a `cancel` names. */
  readonly id: string
  /**
   * Whether it holds one of the caller's in-flight slots: a handler runs for it. A resend of an idempotent
   * request waiting for an earlier run's answer holds none (that run holds its own).
   */
  readonly slot: boolean
  /** The caller cancelled it: its handler's signal fires, nothing is written for it, its slot is free. */
  cancel(): void
  /** Its caller is going away: its handler's signal fires with `reason`; what it answers is dropped. */
  abandon(reason: RoomServerError): void
}

/**
 * The answers one connection is owed, by request id: the one record of its requests being handled, so
 * that the in-flight cap counts its slots, a `cancel` finds what it names, and a shutdown can wait for
 * its last answer before it closes the connection.
 */
export class OwedAnswers {
  readonly #byId = new Map<string, Set<Owed>>()
  #size = 0
  #slots = 0
  #waiters: (() => void)[] = []

  /** Answers owed, slots or not. */
  get size(): number {
    return this.#size
  }

  /** In-flight slots taken: handlers running for this caller. */
  get slots(): number {
    return this.#slots
  }

  add(owed: Owed): void {
    let same = this.#byId.get(owed.id)
    if (same === undefined) {
      same = new Set()
      this.#byId.set(owed.id, same)
    }
    same.add(owed)
    this.#size++
    if (owed.slot) this.#slots++
  }

  has(owed: Owed): boolean {
    return this.#byId.get(owed.id)?.has(owed) === true
  }

  /** It was answered, cancelled or abandoned: forget it. The last one wakes {@link idle}'s waiters. */
  delete(owed: Owed): void {
    const same = this.#byId.get(owed.id)
    if (same === undefined || !same.delete(owed)) return
    if (same.size === 0) this.#byId.delete(owed.id)
    this.#size--
    if (owed.slot) this.#slots--
    if (this.#size === 0) for (const wake of this.#waiters.splice(0)) wake()
  }

  /**
   * Cancel every request with this id (an SDK never reuses one; a hand-written client may): nothing at
   * all for an id that names none, so a cancel that crossed its answer is harmless.
   */
  cancel(id: string): void {
    const same = [...(this.#byId.get(id) ?? [])]
    // All forgotten before any is cancelled: cancelling a run settles it at once, and a resend of this id
    // waiting on that run must not be answered for it (it was cancelled too).
    for (const owed of same) this.delete(owed)
    for (const owed of same) owed.cancel()
  }

  /** The caller is going away: every handler's signal fires with `reason`; nothing more is owed. */
  abandon(reason: RoomServerError): void {
    const all = [...this.#byId.values()].flatMap((same) => [...same])
    for (const owed of all) this.delete(owed)
    for (const owed of all) owed.abandon(reason)
  }

  /** Resolves once nothing is owed: the last answer was written (or given up). */
  idle(): Promise<void> {
    if (this.#size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
}
