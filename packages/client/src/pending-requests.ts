import type { Connection } from './connection'
import { RoomwireError, tooLarge } from './errors'
import type { PendingRequest } from './room-host'
import { utf8Length } from './utf8'

/**
 * The client's messages that carry a `ref` and wait for its answer (`ack`, `error` or `left`). Refs count
 * up over the client's life, across connections, so a late answer can never match a newer request.
 */
export class PendingRequests {
  readonly #byRef = new Map<number, PendingRequest>()
  #nextRef = 1

  /** How many wait (for leak tests). */
  get size(): number {
    return this.#byRef.size
  }

  /**
   * Write a message with a fresh ref and track its answer. Returns the ref, or why nothing was written:
   * `not_connected`, or `too_large` when the frame is over the server's `maxMessageBytes` (it is never
   * sent, so a 1009 close cannot loop). Throws when the message is not serializable.
   */
  send(
    connection: Connection | null,
    maxBytes: number | undefined,
    message: Record<string, unknown>,
    pending: PendingRequest,
  ): number | RoomwireError {
    if (connection === null || !connection.welcomed) {
      return new RoomwireError('not_connected', 'no open connection')
    }
    const ref = this.#nextRef++
    const frame = JSON.stringify({ ...message, ref })
    if (maxBytes !== undefined) {
      const bytes = utf8Length(frame)
      if (bytes > maxBytes) return tooLarge(bytes, maxBytes)
    }
    // Track before writing: an in-process transport may answer inside send().
    this.#byRef.set(ref, pending)
    if (connection.send(frame)) return ref
    this.#byRef.delete(ref)
    return new RoomwireError('not_connected', 'the socket is not open')
  }

  /** The request an answer's `ref` belongs to, no longer tracked; undefined for a ref that is not ours. */
  take(ref: string | number | undefined): PendingRequest | undefined {
    if (typeof ref !== 'number') return undefined
    const request = this.#byRef.get(ref)
    this.#byRef.delete(ref)
    return request
  }

  /** Stop waiting for an answer (its caller gave up: a timeout, a newer join). */
  forget(ref: number): void {
    this.#byRef.delete(ref)
  }

  /** Remove every request and return them, for the caller to settle (a drop, a close, a final stop). */
  takeAll(): PendingRequest[] {
    const requests = [...this.#byRef.values()]
    this.#byRef.clear()
    return requests
  }
}
