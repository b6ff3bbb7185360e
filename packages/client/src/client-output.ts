import type { Logger } from './client-options'
import { Emitter, Listeners } from './emitter'
import { RoomwireError } from './errors'
import type { ClientSnapshot } from './types'

const initialSnapshot: ClientSnapshot = Object.freeze({
  status: 'idle',
  id: null,
  user: null,
  attempt: 0,
  retryAt: null,
  lastError: null,
  closeCode: null,
})

/**
 * What the client tells the app: its snapshot (a `subscribe`/`getSnapshot` store whose `status` changes
 * are also `status` events), its events (`error`, `welcome`), direct messages by event, and where a
 * handler that threw is reported. Nothing the app's handlers, listeners or logger throw reaches the
 * socket's handlers.
 */
export class ClientOutput {
  readonly emitter: Emitter
  readonly directs: Emitter
  readonly #listeners: Listeners
  readonly #logger: Logger
  #snapshot = initialSnapshot

  constructor(logger: Logger) {
    this.#logger = logger
    this.emitter = new Emitter((error, event) => {
      if (event === 'error') this.#log('roomwire: an error handler threw', error)
      else this.handlerFailed(error, `client ${event} handler`)
    })
    this.directs = new Emitter((error, event) => this.handlerFailed(error, `direct ${event} handler`))
    this.#listeners = new Listeners((error) => this.handlerFailed(error, 'client listener'))
  }

  /** Handlers and listeners (for leak tests). */
  get size(): number {
    return this.emitter.size + this.directs.size + this.#listeners.size
  }

  get snapshot(): ClientSnapshot {
    return this.#snapshot
  }

  subscribe(listener: () => void): () => void {
    return this.#listeners.subscribe(listener)
  }

  /** A new snapshot when something in `patch` differs: listeners run, and `status` when it changed. */
  patch(patch: Partial<ClientSnapshot>): void {
    const previous = this.#snapshot
    let changed = false
    for (const key of Object.keys(patch) as (keyof ClientSnapshot)[]) {
      if (!Object.is(patch[key], previous[key])) changed = true
    }
    if (!changed) return
    this.#snapshot = Object.freeze({ ...previous, ...patch })
    this.#listeners.notify()
    if (previous.status !== this.#snapshot.status) this.emitter.emit('status', this.#snapshot)
  }

  /** An app handler threw: on `error` when someone listens, else to the logger. */
  handlerFailed(error: unknown, where: string): void {
    const wrapped = new RoomwireError('handler_failed', `${where} threw`, { cause: error })
    if (this.emitter.has('error')) this.emitter.emit('error', wrapped)
    else this.#log(`roomwire: ${where} threw`, error)
  }

  /**
   * Tell the app what it cannot see in the state (a refused frame, a server error without a request)
   * on `error`. Not through the logger when nobody listens: a hostile server would flood the console.
   */
  report(error: RoomwireError): void {
    this.emitter.emit('error', error)
  }

  /** The app's logger may throw too. */
  #log(message: string, error: unknown): void {
    try {
      this.#logger.error(message, error)
    } catch {
      // Nowhere left to report to.
    }
  }
}
