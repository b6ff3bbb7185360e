import type { Connection } from './connection'

interface Bucket {
  tokens: number
  at: number
}

/**
 * Each connection's budget of bytes its joins may send (the `joined` frame, member pages, replayed
 * messages): a token bucket of `bytesPerSec`, holding at most `burstBytes`, that a join may overdraw once.
 * While a connection's budget is in debt its joins are refused with `rate_limited`. Issue 12: 4 connections
 * looping `join` with `history: 100` and `leave` on a room of 100 x 60 KB messages sent 7.6 GB for 140 KB
 * received. A fresh connection starts full, so a reconnect that joins all its rooms again is not refused.
 */
export class ReplayBudget {
  readonly #ratePerMs: number
  readonly #burst: number
  /** Made on a connection's first join; goes with the connection. */
  readonly #buckets = new WeakMap<Connection, Bucket>()

  /** `bytesPerSec` 0 turns the budget off. */
  constructor(bytesPerSec: number, burstBytes: number) {
    this.#ratePerMs = bytesPerSec / 1000
    this.#burst = burstBytes
  }

  /** Whether a join of `connection` may go ahead now: its budget is not in debt. */
  allows(connection: Connection, now: number): boolean {
    if (this.#ratePerMs === 0) return true
    return this.#refill(connection, now).tokens > 0
  }

  /** Charge what a join of `connection` sent. */
  charge(connection: Connection, bytes: number, now: number): void {
    if (this.#ratePerMs === 0) return
    this.#refill(connection, now).tokens -= bytes
  }

  #refill(connection: Connection, now: number): Bucket {
    let bucket = this.#buckets.get(connection)
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now }
      this.#buckets.set(connection, bucket)
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#ratePerMs)
      bucket.at = now
    }
    return bucket
  }
}
