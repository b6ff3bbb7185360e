import { RoomwireTestError } from './errors'
import { DEFAULT_TIMEOUT_MS } from './event-queue'

/** What {@link waitForSnapshot} watches: a store's status. */
export interface StatusSource<S extends string> {
  subscribe(listener: () => void): () => void
  current(): S
  wanted: S
  /** Starts the error message. */
  label: string
  timeoutMs?: number | undefined
  /** Statuses that can never lead to `wanted`: reject at once with this code. */
  final?: readonly S[]
  detail?: () => string
}

/** Resolve once `current()` is `wanted`: now, or at the change that makes it so. */
export function waitForSnapshot<S extends string>(source: StatusSource<S>): Promise<void> {
  const timeoutMs = source.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const fail = (code: 'timeout' | 'refused', why: string) => {
    const detail = source.detail === undefined ? '' : `; ${source.detail()}`
    return new RoomwireTestError(code, `${source.label}: not ${source.wanted} ${why}${detail}`)
  }
  const check = (): 'done' | RoomwireTestError | null => {
    const now = source.current()
    if (now === source.wanted) return 'done'
    return source.final?.includes(now) === true ? fail('refused', `(${now}, for good)`) : null
  }
  const first = check()
  if (first === 'done') return Promise.resolve()
  if (first !== null) return Promise.reject(first)
  return new Promise((resolve, reject) => {
    const stop = source.subscribe(() => {
      const result = check()
      if (result === null) return
      settle()
      if (result === 'done') resolve()
      else reject(result)
    })
    const timer = setTimeout(() => {
      settle()
      reject(fail('timeout', `within ${timeoutMs} ms (${source.current()})`))
    }, timeoutMs)
    const settle = () => {
      clearTimeout(timer)
      stop()
    }
  })
}
