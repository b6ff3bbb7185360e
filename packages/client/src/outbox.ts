import type { AckMessage } from '@roomwire/protocol'
import { cancelTimer, type TimerHandle } from './clock'
import { RoomwireError, tooLarge } from './errors'
import type { MessageOrder } from './message-order'
import type { RoomHost } from './room-host'
import type { MessageMeta, PendingPublish, PublishOptions, PublishResult } from './types'
import { utf8Length } from './utf8'

/** One own publish from `room.publish()` until its ack or its refusal. */
export interface PublishEntry {
  readonly id: string
  readonly event: string
  readonly data: unknown
  readonly echo: boolean
  readonly bytes: number
  readonly createdAt: number
  readonly timeoutMs: number
  status: 'queued' | 'sent'
  ref: number | null
  timer: TimerHandle | null
  view: PendingPublish
  resolve(result: PublishResult): void
  reject(error: RoomwireError): void
}

/**
 * A room's own publishes, in order, until acknowledged: queued while the room is not joined, written
 * once joined, put back in the queue when the connection drops and written again with the same id (the
 * server dedupes on it). Each write has its ack timeout; the bytes count against the client-wide bounds
 * the host keeps. The acks of publishes without echo feed the room's {@link MessageOrder}.
 */
export class Outbox {
  readonly #host: RoomHost
  readonly #room: string
  readonly #order: MessageOrder
  readonly #changed: () => void
  readonly #joined: () => boolean
  readonly #entries: PublishEntry[] = []
  #pending: readonly PendingPublish[] | null = null

  /**
   * `changed` runs whenever the pending list or what the room shows may have changed; `joined` tells
   * whether the room is joined, the first condition for writing.
   */
  constructor(host: RoomHost, room: string, order: MessageOrder, changed: () => void, joined: () => boolean) {
    this.#host = host
    this.#room = room
    this.#order = order
    this.#changed = changed
    this.#joined = joined
  }

  /** The snapshot's `pending`: the same frozen array until an entry was added, removed or changed status. */
  get pending(): readonly PendingPublish[] {
    this.#pending ??= Object.freeze(this.#entries.map((entry) => entry.view))
    return this.#pending
  }

  /** The entry of an own publish still waiting, by message id. */
  find(id: string): PublishEntry | undefined {
    return this.#entries.find((entry) => entry.id === id)
  }

  /** Whether an own publish without echo waits for its ack (its `seq` is known only then). */
  ownInFlight(): boolean {
    return this.#entries.some((entry) => entry.status === 'sent' && !entry.echo)
  }

  /**
   * Queue a publish, or reject it at once when it cannot be sent: not serializable, over the server's
   * `maxMessageBytes`, or over the outbox bounds.
   */
  add(event: string, data: unknown, options: PublishOptions | undefined): Promise<PublishResult> {
    const host = this.#host
    const id = options?.id ?? host.newMessageId()
    const echo = options?.echo === true
    let bytes: number
    try {
      // The frame as it will be written, with room for the largest ref.
      const frame = { type: 'publish', room: this.#room, event, data, id, echo, ref: Number.MAX_SAFE_INTEGER }
      bytes = utf8Length(JSON.stringify(frame))
    } catch (cause) {
      return Promise.reject(new RoomwireError('bad_request', 'data is not serializable as JSON', { cause }))
    }
    const max = host.limits()?.maxMessageBytes
    if (max !== undefined && bytes > max) return Promise.reject(tooLarge(bytes, max))
    const overflow = host.reserve(bytes)
    if (overflow !== null) return Promise.reject(overflow)
    return new Promise<PublishResult>((resolve, reject) => {
      const createdAt = host.clock.now()
      this.#entries.push({
        id,
        event,
        data,
        echo,
        bytes,
        createdAt,
        timeoutMs: options?.timeoutMs ?? host.ackTimeoutMs,
        status: 'queued',
        ref: null,
        timer: null,
        view: Object.freeze({ id, event, data, status: 'queued', createdAt }),
        resolve,
        reject,
      })
      this.#pending = null
      this.#changed()
      this.flush()
    })
  }

  /** Write queued publishes in order, once the room is joined on an open connection. */
  flush(): void {
    if (!this.#joined() || !this.#host.isOpen()) return
    let sent = false
    for (const entry of [...this.#entries]) {
      if (entry.status !== 'queued') continue
      const message: Record<string, unknown> = {
        type: 'publish',
        room: this.#room,
        event: entry.event,
        data: entry.data,
        id: entry.id,
      }
      if (entry.echo) message.echo = true
      const ref = this.#host.request(message, {
        ack: (ack) => this.#acked(entry, ack),
        error: (error) => this.#settle(entry, error),
        disconnect: () => {},
      })
      if (typeof ref !== 'number') {
        if (ref.code === 'not_connected') break
        this.#settle(entry, ref)
        continue
      }
      sent = true
      // An in-process transport may have answered inside send().
      if (!this.#entries.includes(entry)) continue
      entry.ref = ref
      entry.timer = this.#host.clock.setTimeout(() => {
        entry.timer = null
        this.#settle(entry, new RoomwireError('timeout', `no ack within ${entry.timeoutMs} ms`))
      }, entry.timeoutMs)
      this.#setStatus(entry, 'sent')
    }
    if (sent) this.#changed()
  }

  /** The connection is gone: what was written goes back to the queue, to be resent with the same id. */
  requeue(): boolean {
    let changed = false
    for (const entry of this.#entries) {
      if (entry.status === 'sent') {
        this.#clearTimer(entry)
        entry.ref = null
        this.#setStatus(entry, 'queued')
        changed = true
      }
    }
    return changed
  }

  /** Reject every publish with `error` and release what it held. */
  failAll(error: RoomwireError): void {
    const entries = this.#entries.splice(0)
    if (entries.length > 0) this.#pending = null
    for (const entry of entries) {
      this.#clearTimer(entry)
      if (entry.ref !== null) this.#host.forget(entry.ref)
      this.#host.release(entry.bytes)
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
    return this.#largestInFlight()?.bytes ?? 0
  }

  /** The largest publish written and not yet answered; of equal ones, the last written. */
  #largestInFlight(): PublishEntry | undefined {
    let largest: PublishEntry | undefined
    for (const entry of this.#entries) {
      if (entry.status === 'sent' && (largest === undefined || entry.bytes >= largest.bytes)) largest = entry
    }
    return largest
  }

  #acked(entry: PublishEntry, ack: AckMessage): void {
    const seq = ack.seq ?? 0
    if (!this.#remove(entry)) return
    entry.resolve({ seq })
    // Without echo the server sends the message to everyone else only: its place in the room's order
    // comes with the ack, so onMessage gets a copy synthesized from it.
    if (!entry.echo && seq > 0) {
      const self = this.#host.clientId() ?? ''
      const meta: MessageMeta = { from: self, seq, ts: this.#host.clock.now(), id: entry.id, own: true }
      this.#order.arrive({ event: entry.event, data: entry.data, meta, toHandlers: false })
    }
    this.#order.drain()
  }

  /** A publish that ends without an ack (refused, timed out, too large). */
  #settle(entry: PublishEntry, error: RoomwireError): void {
    if (!this.#remove(entry)) return
    entry.reject(error)
    // Held messages may have waited for this publish's seq, which will now never come.
    this.#order.drain()
  }

  #remove(entry: PublishEntry): boolean {
    const index = this.#entries.indexOf(entry)
    if (index === -1) return false
    this.#entries.splice(index, 1)
    this.#clearTimer(entry)
    if (entry.ref !== null) this.#host.forget(entry.ref)
    this.#host.release(entry.bytes)
    this.#pending = null
    this.#changed()
    return true
  }

  #setStatus(entry: PublishEntry, status: 'queued' | 'sent'): void {
    entry.status = status
    entry.view = Object.freeze({ ...entry.view, status })
    this.#pending = null
  }

  #clearTimer(entry: PublishEntry): void {
    entry.timer = cancelTimer(this.#host.clock, entry.timer)
  }
}
