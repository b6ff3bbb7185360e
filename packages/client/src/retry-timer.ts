import { type Clock, cancelTimer, type TimerHandle } from './clock'

/**
 * One jittered backoff for what the server refused with a retryable code (`unavailable`,
 * `rate_limited`): an attempt count that grows with each refusal in a row and restarts at the next
 * success, and at most one timer. Rooms use one for their `join`, outboxes one for their publishes.
 */
export class RetryTimer {
  #attempt = 0
  #timer: TimerHandle | null = null
  readonly #clock: Clock
  readonly #delay: (attempt: number) => number

  /** `delay(attempt)` is the wait before retry `attempt` (0-based), jitter included. */
  constructor(clock: Clock, delay: (attempt: number) => number) {
    this.#clock = clock
    this.#delay = delay
  }

  /** A retry is scheduled. */
  get pending(): boolean {
    return this.#timer !== null
  }

  /** Run `retry` after the next backoff delay (one more refusal in a row). */
  schedule(retry: () => void): void {
    cancelTimer(this.#clock, this.#timer)
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = null
        retry()
      },
      this.#delay(this.#attempt++),
    )
  }

  /** It worked: the next refusal waits the shortest delay again. */
  succeeded(): void {
    this.#attempt = 0
  }

  cancel(): void {
    this.#timer = cancelTimer(this.#clock, this.#timer)
  }
}
