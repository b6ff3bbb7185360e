import type { Clock, TimerHandle } from '../clock'

/** How long messages are kept, and how the background removal paces itself. */
export interface RetentionOptions {
  /** Messages older than this (by their `ts`) are removed, and no page returns them. */
  maxAgeMs: number
  /**
   * Rows one statement removes at most, so a sweep never holds a long lock or one huge transaction.
   * @default 1000
   */
  batchRows?: number
  /**
   * Time between sweeps. A sweep goes on batch after batch while they come back full.
   * @default 60_000
   */
  intervalMs?: number
  /**
   * Pause between two batches of one sweep, leaving the database to the writers in between.
   * @default 50
   */
  pauseMs?: number
}

/** {@link RetentionOptions} with the defaults filled in. */
export type ResolvedRetention = Required<RetentionOptions>

export const DEFAULT_RETENTION: Omit<ResolvedRetention, 'maxAgeMs'> = {
  batchRows: 1000,
  intervalMs: 60_000,
  pauseMs: 50,
}

/**
 * Removes rows past the retention in the background: at start and every `intervalMs`, one bounded batch
 * at a time, the next one after `pauseMs` while they come back full. One sweep runs at a time.
 */
export class RetentionSweeper {
  readonly #remove: (olderThan: number, limit: number) => Promise<number | undefined>
  readonly #clock: Clock
  readonly #options: ResolvedRetention
  #interval: TimerHandle | undefined
  #pause: TimerHandle | undefined
  #running = false
  #closed = false
  #removed = 0

  /**
   * @param remove delete at most `limit` rows with `ts` below `olderThan`; how many went, or undefined when
   *   the store could not be reached (the sweep then waits for the next interval)
   */
  constructor(
    remove: (olderThan: number, limit: number) => Promise<number | undefined>,
    clock: Clock,
    options: ResolvedRetention,
  ) {
    this.#remove = remove
    this.#clock = clock
    this.#options = options
  }

  /** Rows removed since the store started. */
  get removed(): number {
    return this.#removed
  }

  /** Sweep now and then every `intervalMs`; does nothing once started or closed. */
  start(): void {
    if (this.#interval !== undefined || this.#closed) return
    this.#interval = this.#clock.setInterval(() => this.#sweep(), this.#options.intervalMs)
    this.#sweep()
  }

  close(): void {
    this.#closed = true
    if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval)
    if (this.#pause !== undefined) this.#clock.clearTimeout(this.#pause)
    this.#interval = undefined
    this.#pause = undefined
  }

  #sweep(): void {
    if (this.#running || this.#closed) return
    this.#running = true
    void this.#batch()
  }

  async #batch(): Promise<void> {
    this.#pause = undefined
    const { maxAgeMs, batchRows, pauseMs } = this.#options
    const removed = this.#closed ? undefined : await this.#remove(this.#clock.now() - maxAgeMs, batchRows)
    if (removed !== undefined) this.#removed += removed
    if (removed === batchRows && !this.#closed) {
      this.#pause = this.#clock.setTimeout(() => void this.#batch(), pauseMs)
      return
    }
    this.#running = false
  }
}
