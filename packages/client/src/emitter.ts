/** Handlers by event name. A Map, because event names come from the application. */
export class Emitter {
  readonly #handlers = new Map<string, Set<(...args: never[]) => void>>()
  readonly #onError: (error: unknown, event: string) => void

  /** `onError` receives what a handler threw; the other handlers still run. */
  constructor(onError: (error: unknown, event: string) => void) {
    this.#onError = onError
  }

  on(event: string, handler: (...args: never[]) => void): () => void {
    let set = this.#handlers.get(event)
    if (set === undefined) {
      set = new Set()
      this.#handlers.set(event, set)
    }
    // Wrap so that the same function registered twice gets two independent subscriptions.
    const entry = (...args: never[]) => handler(...args)
    set.add(entry)
    return () => {
      const current = this.#handlers.get(event)
      if (current?.delete(entry) && current.size === 0) this.#handlers.delete(event)
    }
  }

  has(event: string): boolean {
    return this.#handlers.has(event)
  }

  emit(event: string, ...args: unknown[]): void {
    const set = this.#handlers.get(event)
    if (set === undefined) return
    for (const handler of [...set]) {
      try {
        ;(handler as (...a: unknown[]) => void)(...args)
      } catch (error) {
        this.#onError(error, event)
      }
    }
  }

  /** How many handlers are registered, over all events (for leak tests). */
  get size(): number {
    let n = 0
    for (const set of this.#handlers.values()) n += set.size
    return n
  }

  clear(): void {
    this.#handlers.clear()
  }
}

/** Listeners of a `subscribe`/`getSnapshot` store. */
export class Listeners {
  readonly #set = new Set<() => void>()
  readonly #onError: (error: unknown) => void

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError
  }

  subscribe(listener: () => void): () => void {
    const entry = () => listener()
    this.#set.add(entry)
    return () => {
      this.#set.delete(entry)
    }
  }

  notify(): void {
    for (const listener of [...this.#set]) {
      try {
        listener()
      } catch (error) {
        this.#onError(error)
      }
    }
  }

  get size(): number {
    return this.#set.size
  }
}
