import type {
  DirectEventMessage,
  Member,
  MemberJoinedMessage,
  MemberLeftMessage,
  PresenceChangedMessage,
  ResetMessage,
  RoomEventMessage,
} from '@roomwire/protocol'
import type { HistoryStore } from './history-store'

/** A message the adapter hands to every node for the local members of one room. */
export type RoomBroadcast =
  | RoomEventMessage
  | MemberJoinedMessage
  | MemberLeftMessage
  | PresenceChangedMessage
  | ResetMessage

/** How a node delivers a {@link RoomBroadcast}. */
export interface DeliverOptions {
  /** A connection that must not receive it: the publisher without `echo`, the joiner, the presence setter. */
  skip?: string
  /** The message already serialized (for example as it came off a Redis channel), to avoid encoding again. */
  encoded?: string
}

/** Which connections a connection-level broadcast reaches. */
export type ConnectionTarget =
  | { kind: 'all' }
  | { kind: 'only'; ids: readonly string[] }
  | { kind: 'except'; ids: readonly string[] }

/**
 * The side of a server node the adapter calls into: it owns this node's sockets and room member index.
 * Both methods are synchronous, cheap and never throw.
 */
export interface AdapterNode {
  /** A unique id for this node, for adapters that tag what they publish. */
  readonly nodeId: string
  /**
   * Deliver a room message to this node's local members of `room`. For one room, call it in `seq` order
   * (for `message`), and only after the message's `seq` is final.
   */
  deliver(room: string, message: RoomBroadcast, options?: DeliverOptions): void
  /** Deliver a direct message to this node's local connections matching `target`; returns how many got it. */
  deliverDirect(target: ConnectionTarget, message: DirectEventMessage): number
}

/** Server limits an adapter must apply; passed to {@link RoomAdapter.attach}. */
export interface AdapterConfig {
  /** Messages kept per room for `since` and `history`, and for publish dedupe by `id`. */
  historySize: number
  /**
   * Bytes of encoded `message` frames a room's history may hold: past it the oldest messages go first,
   * whatever `historySize` says (a room of 60 KiB messages would otherwise hold 6 MiB).
   */
  historyMaxBytes: number
  /** How long an empty room's `seq`, `epoch` and history are kept before they are freed. */
  idleTimeoutMs: number
  /** The server's clock, epoch milliseconds. */
  now: () => number
  /**
   * Where rooms' messages are kept beyond the adapter's memory (`createRoomServer({ historyStore })`), for
   * adapters that support one: a room then continues from the store after a restart, a publish is
   * acknowledged only once stored, and history pages come from it.
   */
  historyStore?: HistoryStore
}

/** What {@link RoomAdapter.history} asks for. */
export interface HistoryRequest {
  /** Only messages with a seq below it; absent: from the newest. */
  before?: number
  /** At most this many (already clamped by the server). */
  limit: number
}

/** A page of a room's older messages, as {@link RoomAdapter.history} answers. */
export interface HistoryPageResult {
  /** The room's current epoch. */
  epoch: string
  /** Encoded `message` frames, oldest first (newest last). */
  frames: string[]
  /** Older messages are kept before the first of `frames`. */
  more: boolean
}

/** What a `join` asks the adapter to replay. */
export interface ReplayRequest {
  /** Last seq the client saw, in `epoch`. */
  since?: number
  epoch?: string
  /** On a first join, how many past messages to replay (already clamped to the history size). */
  history?: number
}

/** The outcome of {@link RoomAdapter.join}. */
export type JoinResult =
  | {
      ok: true
      /** The room's latest seq when the member was added (cluster-wide). */
      seq: number
      epoch: string
      /** Every member on every node, the joiner included. */
      members: Member[]
      /**
       * The `message` frames to replay after `joined`, as JSON text (as they were first sent), oldest first
       * and without gaps, ending at `seq`: seq `seq - replay.length + 1` to `seq`. What they are is the
       * protocol's rule (PROTOCOL.md, "Joining"): the last `history` messages without `since`; every message
       * after `since` when it names the current epoch and all of them are held (`recovered: true`); else
       * every message still held of the current epoch, after `since` when the epoch is the same
       * (`recovered: false`).
       */
      replay: string[]
      /** Only when `since` was asked: whether `replay` holds every message after it. */
      recovered?: boolean
      /** True when the connection was already a member: nothing was announced. */
      rejoined: boolean
    }
  | { ok: false; reason: 'room_full' }

/** A publish to hand to the adapter: the `message` frame without its `seq`, which the adapter assigns. */
export interface PublishInput {
  event: string
  data: unknown
  /** Publisher's connection id, or `"server"`. */
  from: string
  ts: number
  /** Client-chosen id for dedupe. */
  id?: string
  /** The publisher's authenticated user, carried on the `message` frame (and kept in durable history). */
  user?: string
  /** Deliver to every member but this connection (the publisher without `echo`). */
  skip?: string
}

/** The outcome of {@link RoomAdapter.publish}. */
export interface PublishResult {
  seq: number
  epoch: string
  /** True when a message with the same `id` was still in the history: nothing was delivered again. */
  duplicate: boolean
}

/** A room's cluster-wide state, for `roomInfo`. */
export interface AdapterRoomInfo {
  seq: number
  epoch: string
  members: Member[]
}

/** Whether an adapter's shared store is reachable, for `/health` and the metrics. */
export interface AdapterHealth {
  /** False while the store is unreachable or the node is re-registering: the server reports `degraded`. */
  up: boolean
  /** Why it is down, for operators. */
  reason?: string
}

/**
 * What an adapter keeps of its rooms, for `/health` and the metrics; see {@link RoomAdapter.stats}. The
 * memory adapter counts what this process holds; the Redis adapter counts what Redis holds for the whole
 * cluster (its rooms without members), so every node shows the same `idleRooms` and `historyBytes`.
 */
export interface AdapterStats {
  /** Rooms without members whose seq, epoch and history are kept for resume. */
  idleRooms: number
  /** Bytes of history held (encoded `message` frames); the Redis adapter counts its idle rooms' only. */
  historyBytes: number
  /** Idle rooms freed before their idle timeout because too many were held (since the adapter started). */
  idleRoomsEvicted: number
  /** Messages dropped from history to keep the process's history budget (since the adapter started). */
  historyEvicted: number
}

/**
 * Storage and fan-out for everything that must be cluster-wide: room `seq`/`epoch`, history, dedupe,
 * membership, presence, direct messages. The in-memory adapter is the default; a Redis adapter spans
 * processes. See docs/decisions/001-room-adapter.md for the invariants every implementation keeps.
 *
 * Methods may return a value or a promise (the in-memory adapter answers synchronously; Redis needs a round
 * trip). A rejected promise or a throw costs that one client message an `internal` error.
 */
export interface RoomAdapter {
  /** Called once, before any other method, by the server that owns this adapter. */
  attach(node: AdapterNode, config: AdapterConfig): void | Promise<void>
  /** Release timers, connections and subscriptions. The server calls it last in `close()`. */
  close(): void | Promise<void>
  /** A connection opened on this node (registers it for direct messages from other nodes). */
  addConnection(id: string, user: string | undefined): void | Promise<void>
  /** A connection closed on this node; it has already left every room. */
  removeConnection(id: string): void | Promise<void>
  /**
   * Add `member` to `room` (creating the room's state if needed) unless it already holds `maxMembers`, and
   * announce `member_joined` to the other members (skip: the joiner) unless it was already a member.
   * Every message whose seq is above the returned `seq` must reach this node's `deliver` after this call
   * began (subscribe before you read the seq).
   */
  join(
    room: string,
    member: Member,
    replay: ReplayRequest,
    maxMembers: number,
  ): JoinResult | Promise<JoinResult>
  /** Remove a member and announce `member_left` to the rest. Does nothing if it was not a member. */
  leave(room: string, id: string): void | Promise<void>
  /** Replace a member's presence state and announce it to the other members. False if not a member. */
  setPresence(room: string, id: string, state: unknown): boolean | Promise<boolean>
  /**
   * Assign the room's next seq, append to its history, and deliver to every node, atomically and in seq
   * order; or, when `input.id` is still in the history, return the original seq with `duplicate: true`.
   * Creates the room's state when it has none (a server broadcast to a room nobody joined yet).
   * Settles only once this message (and so every earlier one of the room) was delivered to this node's
   * local members of the room, if it has any: the server writes the publisher's `ack` after it, and an ack
   * must never overtake the room frames it follows (PROTOCOL.md, `ack`).
   */
  publish(room: string, input: PublishInput): PublishResult | Promise<PublishResult>
  /**
   * True when publishes get their seqs in the order `publish` was called, even when a call starts before
   * the one before it settled (Redis: each is one script on one connection). A connection's consecutive
   * publishes then start without waiting for each other's ack (inbound.ts); otherwise one at a time.
   */
  readonly publishesInOrder?: boolean
  /** Deliver a direct message to one connection on any node. False when no node has it. */
  sendDirect(to: string, message: DirectEventMessage): boolean | Promise<boolean>
  /** Deliver a direct message to every matching connection on every node. */
  broadcastDirect(target: ConnectionTarget, message: DirectEventMessage): void | Promise<void>
  /** A room's state, or null when no state is held (never joined, or expired). */
  roomInfo(room: string): AdapterRoomInfo | null | Promise<AdapterRoomInfo | null>
  /** Names of rooms that have at least one member on some node. */
  rooms(): string[] | Promise<string[]>
  /**
   * A page of a room's older messages (PROTOCOL.md, "Scrolling back"): from its history store when it has
   * one, else from what it holds for replay. Null when the room has no state. An adapter without it
   * answers every page empty.
   */
  history?(
    room: string,
    request: HistoryRequest,
  ): HistoryPageResult | null | Promise<HistoryPageResult | null>
  /** The shared store's state, for adapters that have one (`/health` and `roomwire_cluster_store_up`). */
  health?(): AdapterHealth
  /**
   * What this adapter keeps of its rooms (`/health` and the `roomwire_idle_rooms`,
   * `roomwire_history_bytes` and eviction metrics); an adapter that cannot tell leaves it out. Cheap and
   * synchronous: read at every scrape, so an adapter whose rooms live elsewhere returns numbers it cached.
   */
  stats?(): AdapterStats
}
