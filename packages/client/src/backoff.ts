/** How the client spaces reconnection attempts. */
export interface ReconnectOptions {
  /**
   * Upper bound of the first delay; each delay is drawn uniformly from [0, bound] (full jitter).
   * @default 500
   */
  initialMs?: number
  /**
   * Growth of the bound per failed attempt.
   * @default 2
   */
  factor?: number
  /**
   * Cap of the bound.
   * @default 30_000
   */
  maxMs?: number
  /**
   * Stop (status `closed`, error `retries_exhausted`) after this many failed attempts in a row.
   * @default Infinity
   */
  maxAttempts?: number
  /**
   * Added to the jittered delay after a 1013 close (server overloaded), so that clients back off longer.
   * @default 5_000
   */
  overloadedMinMs?: number
}

/** Reconnection defaults, exported so apps and tests can refer to them. */
export const reconnectDefaults: Required<ReconnectOptions> = {
  initialMs: 500,
  factor: 2,
  maxMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  overloadedMinMs: 5_000,
}

/**
 * Delay before retry `attempt` (0-based): capped exponential with full jitter.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 * @example
 * backoffDelay(3, reconnectDefaults, Math.random) // somewhere in [0, 4000]
 */
export function backoffDelay(
  attempt: number,
  options: Pick<Required<ReconnectOptions>, 'initialMs' | 'factor' | 'maxMs'>,
  random: () => number,
): number {
  const cap = Math.min(options.maxMs, options.initialMs * options.factor ** attempt)
  return Math.round(cap * random())
}
