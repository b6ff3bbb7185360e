import { useCallback, useRef, useSyncExternalStore } from 'react'

const noop = () => {}
const noSubscribe = () => noop

/**
 * `useSyncExternalStore` with a selector: the component re-renders only when the selected value changes
 * by `isEqual`, not whenever the store's snapshot does.
 */
export function useSelector<S, T>(
  subscribe: ((listener: () => void) => () => void) | null,
  getSnapshot: () => S,
  getServerSnapshot: () => S,
  selector: (snapshot: S) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const last = useRef<{ snapshot: S; selected: T } | null>(null)
  const selectorRef = useRef(selector)
  const isEqualRef = useRef(isEqual)
  // A new selector must take effect in this render, so drop the memo when it changes.
  if (selectorRef.current !== selector) last.current = null
  selectorRef.current = selector
  isEqualRef.current = isEqual

  const select = useCallback((snapshot: S): T => {
    const prev = last.current
    if (prev !== null && Object.is(prev.snapshot, snapshot)) return prev.selected
    const next = selectorRef.current(snapshot)
    if (prev !== null && isEqualRef.current(prev.selected, next)) {
      last.current = { snapshot, selected: prev.selected }
      return prev.selected
    }
    last.current = { snapshot, selected: next }
    return next
  }, [])

  return useSyncExternalStore(
    subscribe ?? noSubscribe,
    () => select(getSnapshot()),
    () => select(getServerSnapshot()),
  )
}

/** Shallow equality for arrays and plain objects: the usual `isEqual` for a selector that builds one. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => Object.is(item, b[i]))
  }
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) &&
      Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  )
}
