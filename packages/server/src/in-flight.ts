import type { Clock } from './clock'

/**
 * Counts work that was accepted and has not answered yet (publishes waiting for an asynchronous adapter), so
 * shutdown can wait for their acks before it writes its `shutdown` notice: nothing is acknowledged after
 * the notice (PROTOCOL.md, `system`). A counter, not a set of promises: it costs a publish nothing.
 */
export class InFlight {
  #count = 0
  #waiters: (() => void)[] = []

  /** How many are in flight. */
  get count(): number {
    return this.#count
  }

  /** One more is in flight. */
  begin(): void {
    this.#count++
  }

  /** Call once per {@link begin}, after the work's answer (the ack) was written. */
  end(): void {
    this.#count--
    if (this.#count === 0 && this.#waiters.length > 0) for (const wake of this.#waiters.splice(0)) wake()
  }

  /** Resolves once nothing is in flight, or after `timeoutMs` on `clock`. */
  idle(timeoutMs: number, clock: Clock): Promise<void> {
    if (this.#count === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = clock.setTimeout(resolve, timeoutMs)
      this.#waiters.push(() => {
        clock.clearTimeout(timer)
        resolve()
      })
    })
  }
}
