import type {
  AckMessage,
  ErrorMessage,
  HistoryMessage,
  LeftMessage,
  Limits,
  MembersPageMessage,
  WelcomeMessage,
} from '@roomwire/protocol'
import type { Connection } from './connection'
import { RoomwireError, tooLarge } from './errors'
import { type PendingRequest, PendingRequests } from './pending-requests'
import { utf8Length } from './utf8'

/**
 * A client message serialised once: its JSON without the closing brace, so that every write appends
 * its own `ref` without serialising again (a publish is written again after each reconnect).
 */
export interface EncodedMessage {
  readonly head: string
  readonly headBytes: number
  /** UTF-8 length of the frame with the longest ref: what the outbox budget counts. */
  readonly bytes: number
  /** The `maxMessageBytes` this frame was already checked against, so a write does not check it again. */
  readonly checked: number | undefined
}

/** The longest `,"ref":N}` a frame ends with. */
const LONGEST_REF_TAIL = `,"ref":${Number.MAX_SAFE_INTEGER}}`.length

/** What rooms write through: the client's current connection and the requests that wait for answers. */
export interface Transport {
  /** True once the current connection got its `welcome`. */
  readonly open: boolean
  /** This connection's id from `welcome`; null while not open. */
  readonly clientId: string | null
  /** The server's limits from the current `welcome`; null while not open. */
  readonly limits: Limits | null
  /**
   * Serialise a message to write later: `bad_request` when it is not JSON, `too_large` when the server's
   * `maxMessageBytes` is known and the frame is over it (it is never sent, so a 1009 close cannot loop).
   */
  encode(message: Record<string, unknown>): EncodedMessage | RoomwireError
  /**
   * Write with a fresh ref and track its answer. Returns the ref, or why nothing was written:
   * `not_connected`, or `too_large` when the frame was not checked against the current limit yet.
   */
  send(message: EncodedMessage, pending: PendingRequest): number | RoomwireError
  /** Serialise and write now (`send` checks the size, with the ref it got). */
  request(message: Record<string, unknown>, pending: PendingRequest): number | RoomwireError
  forget(ref: number): void
}

/** The client's {@link Transport}: it reads the connection and `welcome` the client owns. */
export class ClientTransport implements Transport {
  readonly requests = new PendingRequests()
  readonly #connection: () => Connection | null
  readonly #welcome: () => WelcomeMessage | null

  constructor(connection: () => Connection | null, welcome: () => WelcomeMessage | null) {
    this.#connection = connection
    this.#welcome = welcome
  }

  get open(): boolean {
    return this.#connection()?.welcomed === true
  }

  get clientId(): string | null {
    return this.#welcome()?.id ?? null
  }

  get limits(): Limits | null {
    return this.#welcome()?.limits ?? null
  }

  encode(message: Record<string, unknown>): EncodedMessage | RoomwireError {
    const encoded = serialise(message)
    if (encoded instanceof RoomwireError) return encoded
    const max = this.limits?.maxMessageBytes
    if (max === undefined) return encoded
    if (encoded.bytes > max) return tooLarge(encoded.bytes, max)
    return { ...encoded, checked: max }
  }

  send(message: EncodedMessage, pending: PendingRequest): number | RoomwireError {
    const connection = this.#connection()
    if (connection === null || !connection.welcomed) {
      return new RoomwireError('not_connected', 'no open connection')
    }
    const ref = this.requests.nextRef()
    const tail = `,"ref":${ref}}`
    const max = this.limits?.maxMessageBytes
    if (max !== undefined && message.checked !== max) {
      // The ref's digits are ASCII: the exact frame length without measuring it again.
      const bytes = message.headBytes + tail.length
      if (bytes > max) return tooLarge(bytes, max)
    }
    // Track before writing: an in-process transport may answer inside send().
    this.requests.track(ref, pending)
    if (connection.send(message.head + tail)) return ref
    this.requests.forget(ref)
    return new RoomwireError('not_connected', 'the socket is not open')
  }

  request(message: Record<string, unknown>, pending: PendingRequest): number | RoomwireError {
    const encoded = serialise(message)
    return encoded instanceof RoomwireError ? encoded : this.send(encoded, pending)
  }

  forget(ref: number): void {
    this.requests.forget(ref)
  }

  /**
   * An answer settles the request its `ref` names (a `left` only ends it). An `error` that answers no
   * request is returned, for the client to report.
   */
  answer(
    message: AckMessage | ErrorMessage | LeftMessage | HistoryMessage | MembersPageMessage,
  ): RoomwireError | undefined {
    const request = this.requests.take(message.ref)
    if (message.type === 'ack') request?.ack(message)
    else if (message.type === 'history') request?.page?.(message)
    else if (message.type === 'members_page') request?.members?.(message)
    else if (message.type === 'error') {
      const error = new RoomwireError(message.code, message.message)
      if (request === undefined) return error
      request.error(error)
    }
    return undefined
  }
}

function serialise(message: Record<string, unknown>): EncodedMessage | RoomwireError {
  let json: string
  try {
    json = JSON.stringify(message)
  } catch (cause) {
    return new RoomwireError('bad_request', 'data is not serializable as JSON', { cause })
  }
  // Every client message is a non-empty object, so the JSON ends with its closing brace.
  const head = json.slice(0, -1)
  const headBytes = utf8Length(head)
  return { head, headBytes, bytes: headBytes + LONGEST_REF_TAIL, checked: undefined }
}
