import { isRetryable, type RoomwireError } from './errors'
import { noop } from './pending-requests'
import type { PresenceSync } from './presence-sync'
import { RetryTimer } from './retry-timer'
import type { RoomEnv } from './room-env'
import type { Transport } from './transport'

/** Where the room's sequence stands: a rejoin resumes from there. */
export interface Position {
  /** null before the room's first `joined`. */
  readonly epoch: string | null
  readonly seq: number
}

/**
 * A room's `join` on the wire: what it carries (presence; `since`/`epoch` to resume, or `history` the
 * first time, from every holder's options until then), the one in flight, and the jittered retry after a
 * retryable refusal (on the same connection; a new one sends its own join at `welcome`). The room decides
 * when to join; this part writes it, and tells the room of a refusal (`refused`: final, or retried, so
 * that a UI can say why the room is still joining).
 */
export class JoinHandshake {
  readonly #room: string
  #history: number | undefined
  readonly #presence: PresenceSync
  readonly #position: () => Position
  #ref: number | null = null
  /** A `joined` came since the last `join` was written (an in-process transport answers inside send). */
  #answered = false
  readonly #retry: RetryTimer
  readonly #transport: Transport
  /** `final`: refused for good; otherwise retried after a backoff. */
  readonly #refused: (error: RoomwireError, final: boolean) => void

  constructor(
    room: string,
    history: number | undefined,
    parts: { transport: Transport; env: RoomEnv; presence: PresenceSync; position: () => Position },
    refused: (error: RoomwireError, final: boolean) => void,
  ) {
    this.#room = room
    this.#history = history
    this.#transport = parts.transport
    this.#presence = parts.presence
    this.#position = parts.position
    this.#retry = new RetryTimer(parts.env.clock, parts.env.retryDelay)
    this.#refused = refused
  }

  /**
   * One more holder's options, which count until the room's first `join` is on the wire (the largest
   * `history`, the first `presence`): effects run children first, so the component that passes them is
   * often not the first to join. Returns the `history` the first join asks for (the room keeps as many
   * recent messages for its logs).
   */
  addHolder(
    options: { readonly history?: number; readonly presence?: unknown } | undefined,
  ): number | undefined {
    if (options === undefined || this.#position().epoch !== null || this.inFlight) return undefined
    if (this.#presence.state === null && options.presence !== undefined)
      this.#presence.state = { value: options.presence }
    if (options.history !== undefined) this.#history = Math.max(this.#history ?? 0, options.history)
    return this.#history
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
    const ref = this.#transport.request(this.#message(), {
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

  #message(): Record<string, unknown> {
    const message: Record<string, unknown> = { type: 'join', room: this.#room }
    const { state } = this.#presence
    if (state !== null) message.presence = state.value
    const { epoch, seq } = this.#position()
    if (epoch !== null) {
      message.since = seq
      message.epoch = epoch
    } else if (this.#history !== undefined && this.#history > 0) {
      message.history = this.#history
    }
    return message
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
      this.#refused(error, false)
      return
    }
    this.#refused(error, true)
  }
}
