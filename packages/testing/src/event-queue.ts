import { describe } from './describe'
import { RoomwireTestError } from './errors'

/** How long `next` and `waitFor` wait by default. */
export const DEFAULT_TIMEOUT_MS = 2000

/**
 * How long `nothing` watches by default: it must wait in real time (it asserts an absence), so it is
 * kept short. Pass a longer window where the event would come late if it came at all.
 */
export const DEFAULT_NOTHING_MS = 100

/** Options of `next`. */
export interface NextOptions<T> {
  /** Only an event for which this returns true; the ones it passes over stay for a later `next`. */
  where?: (value: T) => boolean
  /**
   * Reject with `timeout` after this long, naming what arrived instead.
   * @default 2000
   */
  timeoutMs?: number
}

interface Entry {
  readonly kind: string
  readonly value: unknown
  taken: boolean
}

interface Waiter {
  /** Offered every new entry in order; true when it took it. */
  offer(entry: Entry): boolean
  fail(error: RoomwireTestError): void
}

/** How many events a timeout message lists. */
const LISTED = 5

/**
 * Everything one source (a room, a socket) delivered, in order, by kind. `next` takes the oldest
 * entry not taken yet (so an event that came before the call is not missed), `received` lists them
 * all, `nothing` asserts none comes. It never sleeps: `next` settles when the event arrives, its
 * timer only bounds the wait.
 */
export class EventQueue {
  readonly #label: string
  readonly #entries: Entry[] = []
  readonly #waiters = new Set<Waiter>()
  #closed: string | null = null

  /** `label` starts every error message: `alice in room "general"`. */
  constructor(label: string) {
    this.#label = label
  }

  push(kind: string, value: unknown): void {
    const entry: Entry = { kind, value, taken: false }
    this.#entries.push(entry)
    for (const waiter of this.#waiters) if (waiter.offer(entry)) break
  }

  received(kind: string): unknown[] {
    return this.#entries.filter((e) => e.kind === kind).map((e) => e.value)
  }

  next(kind: string, options: NextOptions<unknown> = {}): Promise<unknown> {
    const where = options.where ?? (() => true)
    const matches = (e: Entry) => !e.taken && e.kind === kind && where(e.value)
    const found = this.#entries.find(matches)
    if (found !== undefined) {
      found.taken = true
      return Promise.resolve(found.value)
    }
    if (this.#closed !== null) return Promise.reject(this.#closedError(kind))
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const since = this.#entries.length
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        offer: (entry) => {
          if (!matches(entry)) return false
          entry.taken = true
          done()
          resolve(entry.value)
          return true
        },
        fail: (error) => {
          done()
          reject(error)
        },
      }
      const timer = setTimeout(() => {
        const what = options.where === undefined ? `"${kind}"` : `"${kind}" matching the condition`
        waiter.fail(
          new RoomwireTestError(
            'timeout',
            `${this.#label}: no ${what} within ${timeoutMs} ms; ${this.#instead(since)}`,
          ),
        )
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(waiter)
      }
      this.#waiters.add(waiter)
    })
  }

  nothing(kind: string, ms: number, where: (value: unknown) => boolean = () => true): Promise<void> {
    const unexpected = (entry: Entry) =>
      new RoomwireTestError(
        'unexpected',
        `${this.#label}: expected no "${kind}" for ${ms} ms, but got ${describe(entry.value)}`,
      )
    const early = this.#entries.find((e) => !e.taken && e.kind === kind && where(e.value))
    if (early !== undefined) return Promise.reject(unexpected(early))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        offer: (entry) => {
          if (entry.kind !== kind || !where(entry.value)) return false
          done()
          reject(unexpected(entry))
          return false
        },
        fail: (error) => {
          done()
          reject(error)
        },
      }
      const timer = setTimeout(() => {
        done()
        resolve()
      }, ms)
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(waiter)
      }
      this.#waiters.add(waiter)
    })
  }

  /** Reject every wait with `closed`; later `next` calls still get what had arrived. */
  close(reason: string): void {
    this.#closed = reason
    for (const waiter of [...this.#waiters]) waiter.fail(this.#closedError(null))
  }

  #closedError(kind: string | null): RoomwireTestError {
    const what = kind === null ? 'while waiting' : `no "${kind}" left to take`
    return new RoomwireTestError('closed', `${this.#label}: ${this.#closed ?? 'closed'} (${what})`)
  }

  /** What came instead: every event since the wait began, and those before it no `next` took. */
  #instead(since: number): string {
    const arrived = this.#entries.filter((e, i) => i >= since || !e.taken)
    if (arrived.length === 0) return 'nothing arrived'
    const listed = arrived.slice(-LISTED).map((e) => `${e.kind} ${describe(e.value)}`)
    const more = arrived.length > LISTED ? ` (and ${arrived.length - LISTED} before them)` : ''
    return `arrived instead: ${listed.join(', ')}${more}`
  }
}
