/** An opaque timer handle from {@link Clock.setTimeout}. */
export type TimerHandle = unknown

/** Where the client gets time from: injectable for tests and unusual runtimes. */
export interface Clock {
  /** Milliseconds; `retryAt` in snapshots is on this scale. */
  now(): number
  setTimeout(callback: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/**
 * The default clock. Each member is an arrow function that reads the global at call time: a direct
 * reference would capture the real `setTimeout` at import, and `vi.useFakeTimers()` (or any later patch)
 * would no longer apply (TanStack Query's timeoutManager does the same for the same reason).
 * Node timers are `unref()`ed: a timeout or a grace period alone never keeps a process alive
 * (see {@link keepProcessAlive} for the one that must).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms)
    if (typeof handle === 'object' && handle !== null && 'unref' in handle) handle.unref()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Undo the `unref()` for a timer that stands for the client's work: the wait before the next
 * reconnect. A connected client's socket keeps a Node process alive; one waiting to reconnect must
 * too, or a script's `await room.ready` ends the process (exit 13, unsettled top-level await) while
 * the server restarts. Handles of other clocks are left alone.
 */
export function keepProcessAlive(handle: TimerHandle): TimerHandle {
  ;(handle as { ref?: () => unknown } | null)?.ref?.()
  return handle
}

/** Clear `timer` if one is set. Returns null, to assign back to the field that held it. */
export function cancelTimer(clock: Clock, timer: TimerHandle | null): null {
  if (timer !== null) clock.clearTimeout(timer)
  return null
}
