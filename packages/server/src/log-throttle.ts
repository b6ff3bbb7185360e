/**
 * Lets through at most `lines` log lines per `intervalMs` for one kind of event a peer can trigger at will
 * (a refused upgrade, a failed authentication, a frame that failed): 2,060 failed authentications a second
 * wrote 174 bytes of log each (issue 12). The first line after a quiet spell says how many were left out,
 * so the log still tells how often it happened; the metrics count every one.
 */
export class LogThrottle {
  readonly #lines: number
  readonly #intervalMs: number
  #windowStart = Number.NEGATIVE_INFINITY
  #written = 0
  #suppressed = 0

  constructor(lines: number, intervalMs: number) {
    this.#lines = lines
    this.#intervalMs = intervalMs
  }

  /**
   * Whether a line may be written at `now`: undefined when not, else how many lines were left out since
   * the last one written (0 usually), to add to the line.
   */
  take(now: number): number | undefined {
    if (now - this.#windowStart >= this.#intervalMs) {
      this.#windowStart = now
      this.#written = 0
    }
    if (this.#written >= this.#lines) {
      this.#suppressed++
      return undefined
    }
    this.#written++
    const suppressed = this.#suppressed
    this.#suppressed = 0
    return suppressed
  }
}

/** Lines per interval the server writes about each kind of refusal. */
export const REFUSAL_LOG_LINES = 20
/** The interval of {@link REFUSAL_LOG_LINES}. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000
