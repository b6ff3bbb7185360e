import type { EventData, EventInput, EventName, Protocol, UntypedProtocol } from '@roomwire/protocol'
import type { RoomwireError } from './errors'

/** Where a message of a {@link MessageLog} stands. Own messages go `sending` → `delivered` (acked) or `failed`. */
export type DeliveryStatus = 'sending' | 'delivered' | 'received' | 'failed'

/** A message the room delivered: another member's (`received`) or an own acknowledged one (`delivered`). */
interface DeliveredEntry<P extends Protocol, K extends string> {
  /** Stable key (a React key): the message id, kept from `sending` to `delivered`. */
  readonly key: string
  readonly event: K
  readonly data: EventData<P, K>
  /** The sender's connection id (`"server"` for server broadcasts). */
  readonly from: string
  /** The room's sequence number. */
  readonly seq: number
  /** Server time (client time for an own message without echo). */
  readonly ts: number
  readonly own: boolean
  readonly status: 'received' | 'delivered'
  readonly phase?: undefined
  readonly error?: undefined
}

/** An own message not acknowledged yet, as the app passed it. */
interface SendingEntry<P extends Protocol, K extends string> {
  readonly key: string
  readonly event: K
  readonly data: EventInput<P, K>
  readonly from: null
  readonly seq: null
  /** When it was published, client time. */
  readonly ts: number
  readonly own: true
  readonly status: 'sending'
  /**
   * `queued`: not written yet (offline, the room not joined yet, or waiting out a retryable refusal);
   * `sent`: written to the open connection, waiting for the server's ack.
   */
  readonly phase: 'queued' | 'sent'
  readonly error?: undefined
}

/** An own message the server refused or never acknowledged; `retry` or `dismiss` it. */
interface FailedEntry<P extends Protocol, K extends string> {
  readonly key: string
  readonly event: K
  readonly data: EventInput<P, K>
  readonly from: null
  readonly seq: null
  /** When it failed, client time. */
  readonly ts: number
  readonly own: true
  readonly status: 'failed'
  readonly phase?: undefined
  /** Why sending failed (`rate_limited`, `too_large`, …). */
  readonly error: RoomwireError
}

/**
 * One entry of a {@link MessageLog}, frozen: a union by `event` (so `m.event === 'chat'` narrows `data`,
 * as with `RoomMessage`) and by `status` (`seq` and `from` exist once delivered). `E` is the events the
 * log lists (every event by default).
 */
export type MessageLogEntry<P extends Protocol = UntypedProtocol, E extends EventName<P> = EventName<P>> =
  E extends EventName<P> ? DeliveredEntry<P, E> | SendingEntry<P, E> | FailedEntry<P, E> : never

/**
 * Options of `room.messageLog()`. With a narrowed `E` (`room.messageLog<'chat'>(…)`) the `events` filter
 * is required and lists only events of `E`, so the entries' type cannot claim more than the filter lets in.
 */
export type MessageLogOptions<P extends Protocol = UntypedProtocol, E extends EventName<P> = EventName<P>> = {
  /**
   * Keep at most this many received and delivered messages (the newest).
   * @default 100
   */
  limit?: number
} & ([EventName<P>] extends [E]
  ? {
      /** Only list these events (an empty list: every event). @default every event */
      events?: readonly EventName<P>[]
    }
  : {
      /** Only list these events: the entries are of these events only. */
      events: readonly [E, ...E[]]
    })

/** Where paging back stands in a {@link MessageLog}: frozen, the same object until it changed. */
export interface OlderMessages {
  /** Older messages may exist on the server (false once a page said there are none). */
  readonly hasOlder: boolean
  /** A page is being loaded. */
  readonly loadingOlder: boolean
  /** Why the last page could not be loaded (null once one was); `loadOlder()` again to retry. */
  readonly error: RoomwireError | null
}

/**
 * A bounded list of a room's recent messages with the delivery state of own ones, for chat UIs: a
 * `subscribe`/`getSnapshot` store (`useSyncExternalStore`). It starts with what the room received since
 * its `joined` (up to `recentMessages`), so a log made after the join misses nothing.
 */
export interface MessageLog<P extends Protocol = UntypedProtocol, E extends EventName<P> = EventName<P>> {
  subscribe(listener: () => void): () => void
  /**
   * Oldest first: received and delivered messages in `seq` order, then failed and sending ones. Frozen,
   * the same array until something in it changed.
   */
  getSnapshot(): readonly MessageLogEntry<P, E>[]
  /** Publish and list a message; it shows as `sending`, then `delivered` or `failed`. Never rejects. */
  send<K extends EventName<P>>(event: K, data: EventInput<P, K>): Promise<void>
  /** Publish a failed message again (with a new key). */
  retry(key: string): void
  /** Remove a failed message from the list. */
  dismiss(key: string): void
  /**
   * Load the page before the oldest message listed (`room.history()`) and merge it in at the front,
   * without duplicates and with the same keys live messages get. Once a page was loaded the list keeps
   * what was loaded and what arrives (`limit` no longer trims it). Never rejects: a failure is in
   * {@link getOlder}`().error`. A call while a page loads shares it.
   */
  loadOlder(): Promise<void>
  /** Where paging back stands. */
  getOlder(): OlderMessages
}
