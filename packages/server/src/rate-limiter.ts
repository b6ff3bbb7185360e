/**
 * Counts events over a sliding window of `windowMs` without keeping their times: the count of the current
 * fixed window plus the previous window's count weighted by how much of it still overlaps the sliding one
 * (the approximation Cloudflare's rate limiter uses). Exact for a steady rate; a burst at the very end of
 * one window is seen at most one window longer. Three numbers, so it costs a connection nothing to hold.
 */
export function slidingCount(state: SlidingWindow, now: number, windowMs: number): number {
  const elapsed = now - state.windowStart
  if (elapsed >= windowMs) {
    const windows = Math.floor(elapsed / windowMs)
    state.previous = windows === 1 ? state.current : 0
    state.current = 0
    state.windowStart += windows * windowMs
  }
  return state.previous * (1 - (now - state.windowStart) / windowMs) + state.current
}

/** The state {@link slidingCount} reads and keeps up to date. */
export interface SlidingWindow {
  windowStart: number
  current: number
  previous: number
}

/** What every connection's {@link InboundBudget} shares: the configured rates, read once. */
export interface InboundRates {
  /** Messages per second; 0 turns the message limit off. */
  readonly messagesPerSec: number
  readonly messageBurst: number
  /** Frame bytes per second; 0 turns the byte budget off. */
  readonly bytesPerSec: number
  readonly byteBurst: number
  /** Refusals are counted over this sliding window. */
  readonly windowMs: number
}

/**
 * Whether both budgets are off (`rateLimitPerSec: 0` and no byte rate): then every take passes, so no
 * refusal is ever recorded and a budget is never written. One such budget can serve every connection.
 */
export function budgetsOff(rates: InboundRates): boolean {
  return rates.messagesPerSec <= 0 && rates.bytesPerSec <= 0
}

/**
 * One connection's inbound budgets: a token bucket of messages, a token bucket of frame bytes, and the
 * refusals counted over a sliding window (for the 1008 close of a persistent flood). Held as plain number
 * fields on one object: a server keeps one per connection, and checking a frame allocates nothing.
 */
export class InboundBudget implements SlidingWindow {
  readonly #rates: InboundRates
  #messages: number
  #bytes: number
  #updatedAt: number
  windowStart: number
  current = 0
  previous = 0
  /** Bytes of the frames refused, in the same two windows as the refusals. */
  #currentBytes = 0
  #previousBytes = 0

  constructor(rates: InboundRates, now: number) {
    this.#rates = rates
    this.#messages = rates.messageBurst
    this.#bytes = rates.byteBurst
    this.#updatedAt = now
    this.windowStart = now
  }

  /** Charge a frame's `bytes` to the byte budget; false (nothing taken) when it has fewer left. */
  takeBytes(now: number, bytes: number): boolean {
    const rates = this.#rates
    if (rates.bytesPerSec <= 0) return true
    this.#refill(now)
    if (this.#bytes < bytes) return false
    this.#bytes -= bytes
    return true
  }

  /** Take one message from the message budget; false when it is empty. */
  takeMessage(now: number): boolean {
    if (this.#rates.messagesPerSec <= 0) return true
    this.#refill(now)
    if (this.#messages < 1) return false
    this.#messages -= 1
    return true
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt
    if (elapsed <= 0) return
    const rates = this.#rates
    this.#updatedAt = now
    this.#messages = Math.min(rates.messageBurst, this.#messages + (elapsed * rates.messagesPerSec) / 1000)
    this.#bytes = Math.min(rates.byteBurst, this.#bytes + (elapsed * rates.bytesPerSec) / 1000)
  }

  /**
   * Record a refusal of a frame of `bytes`; true when the connection has now been refused more than
   * `messageBurst` frames, or more than `byteBurst` bytes, within the sliding window: a persistent flood.
   * Bytes count too because every refused frame was still received, unmasked and checked as UTF-8 by ws:
   * 200 refused 60 KB frames are 12 MB of work (issue 12, the 60 KB ping flood).
   */
  refused(now: number, bytes: number): boolean {
    const windowMs = this.#rates.windowMs
    const start = this.windowStart
    const count = slidingCount(this, now, windowMs)
    if (this.windowStart !== start) {
      const windows = Math.round((this.windowStart - start) / windowMs)
      this.#previousBytes = windows === 1 ? this.#currentBytes : 0
      this.#currentBytes = 0
    }
    this.current++
    this.#currentBytes += bytes
    const overlap = 1 - (now - this.windowStart) / windowMs
    const refusedBytes = this.#previousBytes * overlap + this.#currentBytes
    return count + 1 > this.#rates.messageBurst || refusedBytes > this.#rates.byteBurst
  }
}
