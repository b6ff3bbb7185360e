import type { RoomwireError } from './errors'
import { requestWithTimeout } from './request-with-timeout'
import type { RoomEnv } from './room-env'
import type { Transport } from './transport'

interface Waiter {
  resolve(): void
  reject(error: RoomwireError): void
}

/**
 * A room's own presence: the state every `join` carries, and the `setPresence` calls waiting for the
 * server to have it. An update made while the room is not joined (or its ack lost to a drop) is not
 * retried on its own: the next `join` carries the latest state, and its `joined` settles them all.
 */
export class PresenceSync {
  /** The state the next `join` carries; null until one was given (wrapped, as `undefined` is a state). */
  state: { value: unknown } | null
  #waiters: Waiter[] = []
  readonly #transport: Transport
  readonly #env: RoomEnv
  readonly #room: string

  constructor(transport: Transport, env: RoomEnv, room: string, initial: { value: unknown } | null) {
    this.#transport = transport
    this.#env = env
    this.#room = room
    this.state = initial
  }

  /** Send `state` now when `live` (joined on an open connection), else with the next join. */
  send(state: unknown, live: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject }
      if (!live) {
        this.#waiters.push(waiter)
        return
      }
      const ref = requestWithTimeout(
        this.#transport,
        this.#env,
        { type: 'presence', room: this.#room, state },
        resolve,
        reject,
        () => this.#waiters.push(waiter),
      )
      if (typeof ref === 'number') return
      if (ref.code === 'not_connected') this.#waiters.push(waiter)
      else reject(ref)
    })
  }

  /** The room is joined: its `join` carried the latest state, so every waiting update is done. */
  joined(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.resolve()
  }

  /** Reject every waiting update (the join was refused, the room left, the client stopped). */
  fail(error: RoomwireError): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.reject(error)
  }
}
