import type { AckMessage } from '@roomwire/protocol'
import { cancelTimer, type TimerHandle } from './clock'
import { isRetryable, RoomwireError } from './errors'
import { noop } from './pending-requests'
import { RetryTimer } from './retry-timer'
import type { RoomEnv } from './room-env'
import type { PendingPublish, PublishOptions, PublishResult } from './room-types'
import type { EncodedMessage, Transport } from './transport'

/** One own publish from `room.publish()` until its ack or its refusal. */
export interface PublishEntry {
  readonly id: string
  readonly event: string
  readonly data: unknown
  readonly echo: boolean
  /** The publish frame, serialised and size-checked once, written again as is after a reconnect. */
  readonly frame: EncodedMessage
  readonly createdAt: number
  readonly timeoutMs: number
  status: 'queued' | 'sent'
  ref: number | null
  /** The ack deadline: from the first write on this connection, through retried refusals. */
  timer: TimerHandle | null
  /** The retryable refusal it waits to be sent again after, if any. */
  refusal: RoomwireError | null
  view: PendingPublish
  resolve(result: PublishResult): void
  reject(error: RoomwireError): void
}

/** What an outbox tells its room: its two outputs, never a question back. */
export interface OutboxListener {
  /** The pending list changed. */
  changed(): void
  /** The server acknowledged `entry` with `seq` (0 when the ack carried none). */
  acked(entry: PublishEntry, seq: number): void
}

/**
 * A room's own publishes, in order, until acknowledged: queued while the room is not joined, written
 * once joined, put back in the queue when the connection drops and written again with the same id (the
 * server dedupes on it). A retryable refusal (`unavailable`, `rate_limited`) puts a publish back in the
 * queue too and pauses writing for a jittered backoff. Each publish settles exactly once: at its ack,
 * a final refusal, its ack deadline (`timeoutMs` from its first write on the current connection, which
 * retries do not extend), or when the room is left or the client closed. The bytes count against the
 * client-wide budget. The room says when writing may start ({@link open}) and when it stops.
 */
export class Outbox {
  readonly #transport: Transport
  readonly #env: RoomEnv
  readonly #room: string
  readonly #listener: OutboxListener
  readonly #entries: PublishEntry[] = []
  /** The entry of each message id, for the room's lookups of arriving messages. */
  readonly #byId = new Map<string, PublishEntry>()
  readonly #retry: RetryTimer
  #pending: readonly PendingPublish[] | null = null
  /** The room is joined on an open connection: queued publishes may be written. */
  #writable = false

  constructor(transport: Transport, env: RoomEnv, room: string, listener: OutboxListener) {
    this.#transport = transport
    this.#env = env
    this.#room = room
    this.#listener = listener
    this.#retry = new RetryTimer(env.clock, env.retryDelay)
  }

  /** The snapshot's `pending`: the same frozen array until an entry was added, removed or changed status. */
  get pending(): readonly PendingPublish[] {
    this.#pending ??= Object.freeze(this.#entries.map((entry) => entry.view))
    return this.#pending
  }

  /** The entry of an own publish still waiting, by message id. */
  find(id: string): PublishEntry | undefined {
    return this.#byId.get(id)
  }

  /**
   * Queue a publish, or reject it at once when it cannot be sent: not serializable, over the server's
   * `maxMessageBytes` (when known), or over the outbox bounds.
   */
  add(event: string, data: unknown, options: PublishOptions | undefined): Promise<PublishResult> {
    const env = this.#env
    const id = options?.id ?? env.newMessageId()
    const echo = options?.echo === true
    const message: Record<string, unknown> = { type: 'publish', room: this.#room, event, data, id }
    if (echo) message.echo = true
    const frame = this.#transport.encode(message)
    if (frame instanceof RoomwireError) return Promise.reject(frame)
    const overflow = env.budget.reserve(frame.bytes)
    if (overflow !== null) return Promise.reject(overflow)
    return new Promise<PublishResult>((resolve, reject) => {
      const createdAt = env.clock.now()
      const entry: PublishEntry = {
        id,
        event,
        data,
        echo,
        frame,
        createdAt,
        timeoutMs: options?.timeoutMs ?? env.ackTimeoutMs,
        status: 'queued',
        ref: null,
        timer: null,
        refusal: null,
        view: Object.freeze({ id, event, data, status: 'queued', createdAt }),
        resolve,
        reject,
      }
      this.#entries.push(entry)
      this.#byId.set(id, entry)
      this.#pending = null
      this.#listener.changed()
      this.#flush()
    })
  }

  /** The room is joined: write what is queued, and from now on each publish as it comes. */
  open(): void {
    this.#writable = true
    this.#flush()
  }

  /** Write queued publishes in order, while writable on an open connection and no retry waits. */
  #flush(): void {
    if (!this.#writable || !this.#transport.open) return
    let sent = false
    for (const entry of [...this.#entries]) {
      if (this.#retry.pending) break
      if (entry.status !== 'queued') continue
      let answered = false
      const ref = this.#transport.send(entry.frame, {
        ack: (ack) => {
          answered = true
          this.#acked(entry, ack)
        },
        error: (error) => {
          answered = true
          if (isRetryable(error.code)) this.#refused(entry, error)
          else this.#settle(entry, error)
        },
        disconnect: noop,
      })
      if (typeof ref !== 'number') {
        if (ref.code === 'not_connected') break
        this.#settle(entry, ref)
        continue
      }
      sent = true
      // An in-process transport may have answered inside send().
      if (!answered) {
        entry.ref = ref
        entry.refusal = null
        this.#setStatus(entry, 'sent')
      }
      if (!this.#entries.includes(entry)) continue
      entry.timer ??= this.#env.clock.setTimeout(() => {
        entry.timer = null
        const refused = entry.status === 'queued' ? entry.refusal : null
        this.#settle(
          entry,
          refused === null
            ? new RoomwireError('timeout', `no ack within ${entry.timeoutMs} ms`)
            : new RoomwireError(refused.code, `${refused.message} (retried for ${entry.timeoutMs} ms)`),
        )
      }, entry.timeoutMs)
    }
    if (sent) this.#listener.changed()
  }

  /**
   * The connection is gone: what was written goes back to the queue, to be resent with the same id on
   * the next connection, with a new ack deadline there and no retry pause (a new connection is a new
   * chance; the refusal count stays, so a repeated refusal waits longer).
   */
  requeue(): boolean {
    this.#writable = false
    this.#retry.cancel()
    let changed = false
    for (const entry of this.#entries) {
      this.#clearTimer(entry)
      entry.refusal = null
      if (entry.status === 'sent') {
        entry.ref = null
        this.#setStatus(entry, 'queued')
        changed = true
      }
    }
    return changed
  }

  /** Reject every publish with `error` and release what it held. */
  failAll(error: RoomwireError): void {
    this.#writable = false
    this.#retry.cancel()
    const entries = this.#entries.splice(0)
    this.#byId.clear()
    if (entries.length > 0) this.#pending = null
    for (const entry of entries) {
      this.#clearTimer(entry)
      if (entry.ref !== null) this.#transport.forget(entry.ref)
      this.#env.budget.release(entry.frame.bytes)
      entry.reject(error)
    }
  }

  /** After a 1009 close: the largest publish in flight is the one the server refused to read. */
  dropLargestInFlight(): void {
    const largest = this.#largestInFlight()
    if (largest !== undefined) {
      this.#settle(largest, new RoomwireError('too_large', 'the server closed with 1009: message too big'))
    }
  }

  /** Bytes of the largest publish in flight (0 if none), to pick the room a 1009 came from. */
  largestInFlight(): number {
    return this.#largestInFlight()?.frame.bytes ?? 0
  }

  /** The largest publish written and not yet answered; of equal ones, the last written. */
  #largestInFlight(): PublishEntry | undefined {
    let largest: PublishEntry | undefined
    for (const entry of this.#entries) {
      if (entry.status === 'sent' && (largest === undefined || entry.frame.bytes >= largest.frame.bytes))
        largest = entry
    }
    return largest
  }

  #acked(entry: PublishEntry, ack: AckMessage): void {
    if (!this.#remove(entry)) return
    this.#retry.succeeded()
    entry.resolve({ seq: ack.seq ?? 0 })
    this.#listener.acked(entry, ack.seq ?? 0)
  }

  /** Refused for now: back in the queue, and writing waits for the backoff (once per round of refusals). */
  #refused(entry: PublishEntry, error: RoomwireError): void {
    if (!this.#entries.includes(entry)) return
    entry.ref = null
    entry.refusal = error
    this.#setStatus(entry, 'queued')
    this.#listener.changed()
    if (!this.#retry.pending) this.#retry.schedule(() => this.#flush())
  }

  /** A publish that ends without an ack (refused for good, timed out, too large). */
  #settle(entry: PublishEntry, error: RoomwireError): void {
    if (this.#remove(entry)) entry.reject(error)
  }

  #remove(entry: PublishEntry): boolean {
    const index = this.#entries.indexOf(entry)
    if (index === -1) return false
    this.#entries.splice(index, 1)
    if (this.#entries.length === 0) this.#retry.cancel()
    if (this.#byId.get(entry.id) === entry) this.#byId.delete(entry.id)
    this.#clearTimer(entry)
    if (entry.ref !== null) this.#transport.forget(entry.ref)
    this.#env.budget.release(entry.frame.bytes)
    this.#pending = null
    this.#listener.changed()
    return true
  }

  #setStatus(entry: PublishEntry, status: 'queued' | 'sent'): void {
    entry.status = status
    entry.view = Object.freeze({ ...entry.view, status })
    this.#pending = null
  }

  #clearTimer(entry: PublishEntry): void {
    entry.timer = cancelTimer(this.#env.clock, entry.timer)
  }
}
