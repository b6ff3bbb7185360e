import type { Clock, TimerHandle } from './clock'

/** What {@link IdleExpiry} lists: a room's state, stamped when it last became empty. */
export interface IdleEntry {
  /** When it last became empty (the adapter's clock); meaningful while it is listed. */
  idleSince: number
}

/** How {@link IdleExpiry} is bounded and what it does with a room it lets go. */
export interface IdleExpiryOptions<T> {
  /** Rooms kept at most; past it the one empty longest is freed. */
  max: number
  /** How long a room is kept once empty. */
  timeoutMs: number
  clock: Clock
  /** Free a room that expired or was pushed out (it is already off the list). */
  free(room: string, state: T): void
}

/**
 * Rooms without members, the one empty longest first (a Map keeps insertion order), each kept for
 * `timeoutMs` so clients can resume and at most `max` of them (issue 12: 40 connections churning room
 * names left 72,500 for an hour). One timer serves them all: they all wait the same time, so the one
 * empty longest always expires first.
 */
export class IdleExpiry<T extends IdleEntry> {
  readonly #options: IdleExpiryOptions<T>
  readonly #list = new Map<string, T>()
  #timer: TimerHandle | undefined
  #evicted = 0

  constructor(options: IdleExpiryOptions<T>) {
    this.#options = options
  }

  /** Rooms listed. */
  get size(): number {
    return this.#list.size
  }

  /** Rooms freed early because more than `max` were listed (since the adapter started). */
  get evicted(): number {
    return this.#evicted
  }

  /** List `room` as the newest empty one, its `idleSince` as it is; the oldest goes past `max`. */
  add(room: string, state: T): void {
    this.#list.delete(room)
    this.#list.set(room, state)
    if (this.#list.size > this.#options.max) {
      const [oldest, oldestState] = this.#list.entries().next().value!
      this.#list.delete(oldest)
      this.#evicted++
      this.#options.free(oldest, oldestState)
    }
    this.#schedule()
  }

  /** Take `room` off the list (it has members again, or it is freed). */
  delete(room: string): void {
    this.#list.delete(room)
  }

  /** Stop the timer (the adapter closes). */
  stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    const first = this.#list.values().next().value
    if (first === undefined) return
    const { clock, timeoutMs } = this.#options
    this.#timer = clock.setTimeout(
      () => this.#expire(),
      Math.max(1, first.idleSince + timeoutMs - clock.now()),
    )
  }

  #expire(): void {
    this.#timer = undefined
    const { clock, timeoutMs, free } = this.#options
    const t = clock.now()
    for (const [room, state] of this.#list) {
      if (state.idleSince + timeoutMs > t) break
      this.#list.delete(room)
      free(room, state)
    }
    this.#schedule()
  }
}
