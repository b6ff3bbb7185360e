import type { Clock } from '../src/clock'

/** A {@link Clock} that moves only when told: timers fire in `advance`, in time order. */
export interface ManualClock extends Clock {
  /** Move time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void
  /** Timers scheduled and not yet fired or cleared. */
  readonly pending: number
}

/** A manual clock starting at `start` (epoch milliseconds). */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start
  let next = 0
  const timers = new Map<number, { at: number; callback: () => void; every?: number }>()
  const add = (callback: () => void, ms: number, every?: number) => {
    const id = ++next
    timers.set(id, every === undefined ? { at: now + ms, callback } : { at: now + ms, callback, every })
    return id
  }
  const clear = (handle: unknown) => void timers.delete(handle as number)
  return {
    now: () => now,
    setTimeout: (callback, ms) => add(callback, ms),
    clearTimeout: clear,
    setInterval: (callback, ms) => add(callback, ms, ms),
    clearInterval: clear,
    get pending() {
      return timers.size
    },
    advance(ms) {
      const until = now + ms
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= until).sort(([, a], [, b]) => a.at - b.at)[0]
        if (due === undefined) break
        const [id, timer] = due
        now = timer.at
        if (timer.every === undefined) timers.delete(id)
        else timer.at += timer.every
        timer.callback()
      }
      now = until
    },
  }
}
