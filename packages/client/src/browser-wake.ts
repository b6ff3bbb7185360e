interface EventTargetLike {
  addEventListener?(type: string, listener: () => void): void
  removeEventListener?(type: string, listener: () => void): void
}

/**
 * In a browser, call `wake` when the network comes back (`online`) or the page is visible again after
 * being hidden at least `hiddenMs` (a sleeping laptop, a background tab whose timers were throttled).
 * Every global is checked first: in Node and workers without `document` this attaches nothing.
 * Returns the function that detaches the listeners.
 */
export function watchBrowserWake(wake: () => void, hiddenMs: number, now: () => number): () => void {
  const target = globalThis as EventTargetLike
  const doc = (globalThis as { document?: EventTargetLike & { visibilityState?: string } }).document
  const detach: Array<() => void> = []
  if (typeof target.addEventListener === 'function' && typeof target.removeEventListener === 'function') {
    const online = () => wake()
    target.addEventListener('online', online)
    detach.push(() => target.removeEventListener?.('online', online))
  }
  if (doc !== undefined && typeof doc.addEventListener === 'function') {
    let hiddenAt: number | null = doc.visibilityState === 'hidden' ? now() : null
    const visibility = () => {
      if (doc.visibilityState === 'hidden') {
        hiddenAt ??= now()
      } else if (hiddenAt !== null) {
        const hiddenFor = now() - hiddenAt
        hiddenAt = null
        if (hiddenFor >= hiddenMs) wake()
      }
    }
    doc.addEventListener('visibilitychange', visibility)
    detach.push(() => doc.removeEventListener?.('visibilitychange', visibility))
  }
  return () => {
    for (const fn of detach) fn()
  }
}
