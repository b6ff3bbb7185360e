import type { AckMessage, HistoryMessage, MembersPageMessage } from '@roomwire/protocol'
import type { RoomwireError } from './errors'

/** What the client does with the answer to a message that carried a `ref`. */
export interface PendingRequest {
  ack(message: AckMessage): void
  /** The answer to a `history` request (only those ask for one). */
  page?(message: HistoryMessage): void
  /** The answer to a `members_page` request. */
  members?(message: MembersPageMessage): void
  error(error: RoomwireError): void
  /** The connection dropped before an answer came. */
  disconnect(): void
}

/** An answer nothing waits for. */
export const noop = (): void => {}

/** For a message nothing waits on the answer of (a `leave`). */
export const unanswered: PendingRequest = { ack: noop, error: noop, disconnect: noop }

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

  /** A fresh ref, not tracked yet. */
  nextRef(): number {
    return this.#nextRef++
  }

  track(ref: number, pending: PendingRequest): void {
    this.#byRef.set(ref, pending)
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
