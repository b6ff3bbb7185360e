/** An opaque timer handle from {@link Clock.setTimeout} or {@link Clock.setInterval}. */
export type TimerHandle = unknown

/**
 * Where the server gets time from: injectable (`createRoomServer({ clock })`, adapters' `clock`), so
 * heartbeat, idle expiry, rate limits and timeouts are tested exactly, without global fake timers.
 */
export interface Clock {
  /** Epoch milliseconds: `ts` on the wire is on this scale. */
  now(): number
  setTimeout(callback: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
  setInterval(callback: () => void, ms: number): TimerHandle
  clearInterval(handle: TimerHandle): void
}

type NodeTimer = ReturnType<typeof setTimeout>

/**
 * The default clock. Each member reads the global at call time: a direct reference would capture the
 * real `setTimeout` at import, and `vi.useFakeTimers()` (or any later patch) would no longer apply.
 * Timers are `unref()`ed: what keeps a server process alive is its listening socket, never a timer, so a
 * closed server cannot be held open by a forgotten one.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => unref(setTimeout(callback, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeTimer),
  setInterval: (callback, ms) => unref(setInterval(callback, ms)),
  clearInterval: (handle) => clearInterval(handle as NodeTimer),
}

function unref(handle: NodeTimer): NodeTimer {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle) handle.unref()
  return handle
}
