import { isRetryable, type RoomwireError } from './errors'
import { RetryTimer } from './retry-timer'
import type { RoomEnv } from './room-env'
import type { Transport } from './transport'

const noop = () => {}

/**
 * A room's `join` on the wire: the one in flight, and the jittered retry after a retryable refusal (on
 * the same connection; a new one sends its own join at `welcome`). The room decides when to join and
 * what the `join` carries (`build`); this part writes it and hears a final refusal (`refused`).
 */
export class JoinHandshake {
  #ref: number | null = null
  /** A `joined` came since the last `join` was written (an in-process transport answers inside send). */
  #answered = false
  readonly #retry: RetryTimer
  readonly #transport: Transport
  readonly #build: () => Record<string, unknown>
  readonly #refused: (error: RoomwireError) => void

  constructor(
    transport: Transport,
    env: RoomEnv,
    build: () => Record<string, unknown>,
    refused: (error: RoomwireError) => void,
  ) {
    this.#transport = transport
    this.#retry = new RetryTimer(env.clock, env.retryDelay)
    this.#build = build
    this.#refused = refused
  }

  /** A `join` is written and its `joined` has not come. */
  get inFlight(): boolean {
    return this.#ref !== null
  }

  /** Write a `join` now (replacing one in flight), or wait for `welcome` when not connected. */
  send(): void {
    this.#retry.cancel()
    this.#forget()
    this.#answered = false
    const ref = this.#transport.request(this.#build(), {
      ack: noop,
      error: (error) => this.#onError(error),
      disconnect: noop,
    })
    // `joined` is routed by room, not by ref: the request is forgotten once it came.
    if (typeof ref === 'number') {
      if (this.#answered) this.#transport.forget(ref)
      else this.#ref = ref
    }
    // Too large (a presence state over maxMessageBytes) can never be sent: final. Not connected: the
    // next `welcome` sends it.
    else if (ref.code !== 'not_connected') this.#onError(ref)
  }

  /** The room's `joined` came. */
  joined(): void {
    this.#forget()
    this.#answered = true
    this.#retry.succeeded()
  }

  /** The connection is gone, with whatever was in flight on it. */
  disconnected(): void {
    this.#ref = null
    this.#retry.cancel()
  }

  /** Nothing stays in flight or scheduled (the room ended, or the client stopped). */
  cancel(): void {
    this.#retry.cancel()
    this.#forget()
  }

  #forget(): void {
    if (this.#ref !== null) {
      this.#transport.forget(this.#ref)
      this.#ref = null
    }
  }

  #onError(error: RoomwireError): void {
    this.#ref = null
    this.#answered = true
    // Retryable: nothing changed on the server; send it again after a backoff.
    if (isRetryable(error.code)) {
      this.#retry.schedule(() => {
        if (this.#transport.open) this.send()
      })
      return
    }
    this.#refused(error)
  }
}
