import type { Clock, TimerHandle } from '../src/clock'

interface Timer {
  at: number
  every: number | undefined
  run: () => void
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in time order, with
 * `now()` at each one's due time. Injected with `createRoomServer({ clock })`, it makes the heartbeat and
 * the timeouts exact without global fake timers (real sockets keep real I/O).
 */
export class ManualClock implements Clock {
  #now: number
  #next = 1
  readonly #timers = new Map<number, Timer>()

  constructor(start = 1_700_000_000_000) {
    this.#now = start
  }

  now = (): number => this.#now

  setTimeout = (run: () => void, ms: number): TimerHandle => this.#add(run, ms, undefined)
  setInterval = (run: () => void, ms: number): TimerHandle => this.#add(run, ms, Math.max(1, ms))
  clearTimeout = (handle: TimerHandle): void => {
    this.#timers.delete(handle as number)
  }
  clearInterval = (handle: TimerHandle): void => {
    this.#timers.delete(handle as number)
  }

  /** Timers waiting to run. */
  get pending(): number {
    return this.#timers.size
  }

  /** Move time forward by `ms`, running each timer as it falls due. */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      let due: [number, Timer] | undefined
      for (const entry of this.#timers)
        if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry
      if (due === undefined) break
      const [id, timer] = due
      this.#now = Math.max(this.#now, timer.at)
      if (timer.every === undefined) this.#timers.delete(id)
      else timer.at += timer.every
      timer.run()
    }
    this.#now = end
  }

  #add(run: () => void, ms: number, every: number | undefined): number {
    const id = this.#next++
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), every, run })
    return id
  }
}
