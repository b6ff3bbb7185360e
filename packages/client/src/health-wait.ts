import { type Clock, cancelTimer, type TimerHandle } from './clock'

/**
 * The wait a connection must stay open before it may count as healthy (PROTOCOL.md, "What an SDK
 * client does"): started at `welcome`, stopped when the connection ends. When it runs out it calls
 * `check`, which decides with the rooms; the client asks again whenever a room's join settles.
 */
export class HealthWait {
  #timer: TimerHandle | null = null
  #over = false
  readonly #clock: Clock
  readonly #ms: number
  readonly #check: () => void

  constructor(clock: Clock, ms: number, check: () => void) {
    this.#clock = clock
    this.#ms = ms
    this.#check = check
  }

  /** The connection has been open long enough. */
  get over(): boolean {
    return this.#over
  }

  start(): void {
    this.stop()
    if (this.#ms <= 0) {
      this.#over = true
      return
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null
      this.#over = true
      this.#check()
    }, this.#ms)
  }

  stop(): void {
    this.#timer = cancelTimer(this.#clock, this.#timer)
    this.#over = false
  }
}
