/**
 * A token bucket: `ratePerSec` tokens a second, holding at most `burst`. Time comes from the caller so the
 * bucket needs no timer.
 */
export class TokenBucket {
  readonly #ratePerMs: number
  readonly #burst: number
  #tokens: number
  #updatedAt: number

  constructor(ratePerSec: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSec / 1000
    this.#burst = Math.max(1, burst)
    this.#tokens = this.#burst
    this.#updatedAt = now
  }

  /** Take one token if there is one. */
  take(now: number): boolean {
    const elapsed = now - this.#updatedAt
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs)
      this.#updatedAt = now
    }
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
