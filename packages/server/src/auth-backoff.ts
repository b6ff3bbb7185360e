import { type SlidingWindow, slidingCount } from './rate-limiter'

/** How failed authentications from one address are answered. */
export interface AuthBackoffOptions {
  /** Failures within `windowMs` that start a backoff; 0 turns backoff off. */
  readonly failures: number
  readonly windowMs: number
  /** The first backoff; each further one from the same address doubles, up to `maxMs`. */
  readonly backoffMs: number
  readonly maxMs: number
  /** Addresses tracked at once; past it the least recently failing one is forgotten. */
  readonly maxAddresses: number
}

interface AddressFailures extends SlidingWindow {
  /** Backoffs in a row: the next lasts `backoffMs * 2 ** trips`. */
  trips: number
  blockedUntil: number
  lastFailureAt: number
}

/**
 * Failed authentications per address, and the backoff they earn: after `failures` within `windowMs`,
 * upgrades from that address are refused for `backoffMs`, twice as long each time it happens again, up to
 * `maxMs`. An address that stays quiet for `maxMs` after its backoff starts over. Memory is bounded by `maxAddresses`: a
 * flood from many addresses forgets the oldest, which then only start counting again.
 */
export class AuthBackoff {
  readonly #options: AuthBackoffOptions
  readonly #byAddress = new Map<string, AddressFailures>()

  constructor(options: AuthBackoffOptions) {
    this.#options = options
  }

  /** How long upgrades from `key` are still refused at `now` (0: not refused). */
  blockedFor(key: string, now: number): number {
    const entry = this.#byAddress.get(key)
    if (entry === undefined) return 0
    return Math.max(0, entry.blockedUntil - now)
  }

  /** Record a failed authentication; returns the backoff it started in ms, or 0 when none started. */
  failed(key: string, now: number): number {
    const o = this.#options
    if (o.failures <= 0) return 0
    let entry = this.#byAddress.get(key)
    if (entry !== undefined) {
      // Most recently failing last, so the first entry is the one to forget.
      this.#byAddress.delete(key)
      // Quiet for `maxMs` since its last failure and since its backoff ended: it starts over.
      if (now - Math.max(entry.lastFailureAt, entry.blockedUntil) >= o.maxMs) entry.trips = 0
    } else {
      entry = { windowStart: now, current: 0, previous: 0, trips: 0, blockedUntil: 0, lastFailureAt: now }
      if (this.#byAddress.size >= o.maxAddresses) {
        const oldest = this.#byAddress.keys().next()
        if (oldest.done !== true) this.#byAddress.delete(oldest.value)
      }
    }
    this.#byAddress.set(key, entry)
    entry.lastFailureAt = now
    const count = slidingCount(entry, now, o.windowMs) + 1
    entry.current++
    if (count <= o.failures || now < entry.blockedUntil) return 0
    const backoff = Math.min(o.maxMs, o.backoffMs * 2 ** entry.trips)
    entry.trips++
    entry.blockedUntil = now + backoff
    entry.current = 0
    entry.previous = 0
    entry.windowStart = now
    return backoff
  }

  /** Addresses tracked (for tests and /health). */
  get size(): number {
    return this.#byAddress.size
  }
}
