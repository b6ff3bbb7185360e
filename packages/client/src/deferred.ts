/** A promise settled from outside, once: later calls do nothing. Nobody has to await it. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

const noop = () => {}

export function deferred<T>(): Deferred<T> {
  let settled = false
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A rejection nobody awaits must not become an unhandled rejection.
  promise.catch(noop)
  return {
    promise,
    resolve: (value) => {
      if (!settled) resolve(value)
      settled = true
    },
    reject: (error) => {
      if (!settled) reject(error)
      settled = true
    },
  }
}
