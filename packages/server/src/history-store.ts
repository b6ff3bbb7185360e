import type { AdapterHealth } from './adapter'

/** One message as a history store keeps it: the fields of its `message` frame, and its room's epoch. */
export interface StoredMessage {
  room: string
  epoch: string
  seq: number
  event: string
  /** Any JSON value, `null` included. */
  data: unknown
  /** The publisher's connection id, or `"server"`. */
  from: string
  /** The publisher's authenticated user, when it had one. */
  user?: string | undefined
  /** The publisher's message id, for dedupe. */
  id?: string | undefined
  /** Server clock, epoch milliseconds. */
  ts: number
}

/**
 * Why a store refused. `unavailable`: it cannot be reached right now (an append may or may not have been
 * stored: a retry with the same message id finds out through {@link HistoryStore.findId});
 * `conflict`: the room already has a message at that seq (the caller's sequence is behind the store's:
 * read {@link HistoryStore.head} again); `invalid`: this message cannot be stored as it is.
 */
export interface StoreRefusal {
  ok: false
  code: 'unavailable' | 'conflict' | 'invalid'
  message: string
}

/** A room's position in a store: the epoch and seq of its newest message. */
export interface RoomHead {
  epoch: string
  seq: number
}

/** A message for {@link HistoryStore.appendNext}: its room's epoch and its seq are the store's to give. */
export type UnsequencedMessage = Omit<StoredMessage, 'epoch' | 'seq'>

/** What {@link HistoryStore.page} asks for. */
export interface PageRequest {
  /** Only messages of this epoch (the room's current one). */
  epoch: string
  /** Only messages with a seq below this one; absent: from the newest. */
  before?: number
  /** At most this many messages (the caller has already capped it). */
  limit: number
}

/** One page of a room's older messages. */
export interface HistoryPage {
  /** Encoded `message` frames (JSON text, as in live delivery), oldest first, newest last. */
  frames: string[]
  /** Older messages of the epoch exist before the first of `frames`. */
  more: boolean
}

/**
 * Where a room's messages are kept beyond what the adapter holds in memory, so they survive a restart and
 * can be paged back. Expected failures (the store is unreachable) are returned as {@link StoreRefusal}
 * values; a method that throws or rejects has a bug.
 */
export interface HistoryStore {
  /**
   * Keep one message. Settles only once it is durable (for Postgres: committed). Messages of one room must
   * be appended in seq order, each the one after the last; when an append is refused `unavailable`, every
   * append queued behind it is refused too, so what is stored of a room never has a gap.
   */
  append(message: StoredMessage): Promise<{ ok: true } | StoreRefusal>
  /**
   * Keep one message at the room's next seq, which the store assigns as it commits (for Postgres: the
   * seq after the newest row, in the newest row's epoch), so writers on several nodes never take the same
   * seq and what is stored of a room never has a gap: a seq exists only once its message is committed,
   * and every lower seq is committed before it. `fallback` is where a room the store has no message of
   * starts (the cluster's epoch and seq for it). Settles once committed, with the epoch and seq it got.
   * Stores that cannot sequence leave it out (then the Redis adapter cannot use them).
   */
  appendNext?(
    message: UnsequencedMessage,
    fallback: RoomHead,
  ): Promise<({ ok: true } & RoomHead) | StoreRefusal>
  /** The room's newest stored message's epoch and seq; `head: null` when the store has none of the room. */
  head(room: string): Promise<{ ok: true; head: RoomHead | null } | StoreRefusal>
  /** Older messages of a room's epoch, newest last; see {@link PageRequest}. */
  page(room: string, request: PageRequest): Promise<({ ok: true } & HistoryPage) | StoreRefusal>
  /** The stored message with this message id in the room (any epoch), for publish dedupe. */
  findId(room: string, id: string): Promise<{ ok: true; found: RoomHead | null } | StoreRefusal>
  /** Whether the store is reachable, for `/health`. */
  health(): AdapterHealth
  /** Stop timers and release connections it opened; appends still queued are refused `unavailable`. */
  close(): Promise<void>
}
