import type { AdapterHealth } from '../adapter'
import type { Clock, TimerHandle } from '../clock'

/**
 * Whether PostgreSQL answers, as the history store last found it. It starts up (the first query finds
 * out); a failed query takes it down, and from then on a probe runs every `probeIntervalMs` until one
 * succeeds. While it is down the store refuses at once instead of queueing work behind a dead server.
 */
export class StoreLink {
  readonly #probe: () => Promise<boolean>
  readonly #clock: Clock
  readonly #intervalMs: number
  #reason: string | undefined
  #timer: TimerHandle | undefined
  #probing = false
  #closed = false

  /** @param probe one round trip to the server: true when it answered */
  constructor(probe: () => Promise<boolean>, clock: Clock, probeIntervalMs: number) {
    this.#probe = probe
    this.#clock = clock
    this.#intervalMs = probeIntervalMs
  }

  get up(): boolean {
    return this.#reason === undefined
  }

  /** Why it is down, for refusals and `/health`. */
  get reason(): string | undefined {
    return this.#reason
  }

  health(): AdapterHealth {
    // A closed store refuses everything: a server handed one (reused across a restart) is not healthy.
    if (this.#closed) return { up: false, reason: 'postgres: the history store is closed' }
    return this.#reason === undefined ? { up: true } : { up: false, reason: this.#reason }
  }

  /** A query failed: down until a probe answers. */
  failed(reason: string): void {
    this.#reason = `postgres: ${reason}`
    if (this.#timer !== undefined || this.#closed) return
    this.#timer = this.#clock.setInterval(() => void this.#tryProbe(), this.#intervalMs)
  }

  /** A query answered: up again at once, without waiting for the probe. */
  answered(): void {
    if (this.#reason === undefined) return
    this.#reason = undefined
    this.#stopProbe()
  }

  close(): void {
    this.#closed = true
    this.#stopProbe()
  }

  async #tryProbe(): Promise<void> {
    if (this.#probing) return
    this.#probing = true
    try {
      if (await this.#probe()) this.answered()
    } finally {
      this.#probing = false
    }
  }

  #stopProbe(): void {
    if (this.#timer !== undefined) this.#clock.clearInterval(this.#timer)
    this.#timer = undefined
  }
}
