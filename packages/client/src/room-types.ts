import type {
  EventData,
  EventInput,
  EventName,
  PresenceInput,
  PresenceState,
  Protocol,
  RequestOutput,
  RoomRequestName,
  UntypedProtocol,
} from '@roomwire/protocol'
import type { RoomwireError } from './errors'
import type { MessageLog, MessageLogOptions } from './message-log-types'
import type { RequestArgs } from './requests'

/**
 * Any protocol: the default type argument of `Client` and `Room`, so that a client typed by its protocol
 * is still a plain `Client` (a helper taking any client); with `UntypedProtocol` the two would not fit.
 */
// biome-ignore lint/suspicious/noExplicitAny: only `any` makes every typed client assignable to the default
export type AnyProtocol = Protocol<any, any, any, any>

/** A room member. `presence` is typed by the protocol. */
export interface Member<P extends Protocol = UntypedProtocol> {
  readonly id: string
  readonly user?: string
  readonly presence?: PresenceState<P>
}

/** Status of a room handle. */
export type RoomStatus = 'joining' | 'joined' | 'rejoining' | 'left' | 'error'

/** An own publish not acknowledged yet: `queued` (waiting to be written) or `sent` (waiting for `ack`). */
export type PendingPublish<P extends Protocol = UntypedProtocol> = {
  [K in EventName<P>]: {
    readonly id: string
    readonly event: K
    readonly data: EventInput<P, K>
    readonly status: 'queued' | 'sent'
    readonly createdAt: number
  }
}[EventName<P>]

/** A room's state, immutable, the same object until something in it changed. */
export interface RoomSnapshot<P extends Protocol = UntypedProtocol> {
  readonly name: string
  readonly status: RoomStatus
  /** Current members, self included; the same array until membership or presence changed. */
  readonly members: readonly Member<P>[]
  /**
   * How many members the room has, self included. In a big room (counts mode, PROTOCOL.md "Big rooms")
   * `members` holds only self and this is the server's count; read the others with `room.loadMembers()`.
   */
  readonly memberCount: number
  readonly self: Member<P> | null
  /** The last `seq` delivered (0 before any). */
  readonly seq: number
  readonly epoch: string | null
  /**
   * Why the room is not joined: the final refusal while `status` is `'error'`, or, while it is still
   * `'joining'` or `'rejoining'`, the last refusal the client retries on its own (`unavailable`: the server
   * cannot reach its store; `rate_limited`). null once joined.
   */
  readonly error: RoomwireError | null
  readonly pending: readonly PendingPublish<P>[]
}

/** What a room event handler gets besides the data. */
export interface MessageMeta {
  /** Connection id of the publisher, or `"server"`. */
  readonly from: string
  readonly seq: number
  /** The epoch `seq` belongs to: after the server lost a room's sequence, seq 1 comes again in a new one. */
  readonly epoch: string
  /** Server time, epoch milliseconds (client time for a message synthesized from an ack). */
  readonly ts: number
  /** The message id the publisher gave. */
  readonly id?: string
  /** The publisher's authenticated user, when it had one (so history shows who wrote what). */
  readonly user?: string
  /** Whether this client published it (in this or an earlier connection). */
  readonly own: boolean
}

/** One application message of a room, as `room.onMessage` delivers it. */
export type RoomMessage<P extends Protocol = UntypedProtocol> = {
  [K in EventName<P>]: MessageMeta & { readonly event: K; readonly data: EventData<P, K> }
}[EventName<P>]

/**
 * Why a room's messages may have a hole the client cannot fill, and where delivery goes on. It is
 * emitted only when messages may really be gone (PROTOCOL.md, "What an SDK client does"); a server
 * restart that kept the room's state (its epoch and seq) emits none.
 */
export interface ResyncInfo {
  /**
   * - `not_recovered`: a rejoin in the same epoch could not replay everything after the last seen `seq`
   *   (`recovered: false`, history too short);
   * - `epoch`: a rejoin found a new epoch (the server lost the room's sequence: a crash, or a restart
   *   without a state file);
   * - `reset`: the server said so while the room was joined (its store lost the room);
   * - `gap`: a missing `seq` did not arrive, not even after a rejoin for it, and was skipped.
   */
  readonly reason: 'not_recovered' | 'epoch' | 'reset' | 'gap'
  /** The epoch delivery goes on in. */
  readonly epoch: string
  /**
   * The room's last seen `seq` after the resync: every message after it is still delivered, once and
   * in order (the replay that follows a `joined`, or the live stream); what may be missing is at or
   * below it.
   */
  readonly seq: number
}

/** Room lifecycle events (names no application event may take). */
export interface RoomLifecycleEvents<P extends Protocol = UntypedProtocol> {
  member_joined: (member: Member<P>) => void
  member_left: (member: Member<P>) => void
  presence: (member: Member<P>) => void
  /** Missed messages cannot be replayed: refetch what the room shows. */
  resync: (info: ResyncInfo) => void
}

/**
 * Options of `client.join()`. Every holder that joins before the first `join` is written (it goes out a
 * microtask after the first `client.join()`) contributes: the largest `history`, the first `presence`.
 */
export interface JoinOptions<P extends Protocol = UntypedProtocol> {
  /** Initial presence state, also sent with every rejoin until `setPresence` changes it. */
  presence?: PresenceInput<P>
  /** On the first join, how many past messages to replay (clamped by the server). */
  history?: number
}

/** Options of `room.publish()`. */
export interface PublishOptions {
  /**
   * Also deliver the message back to this client over the wire. Without it, `onMessage` still sees the
   * message, synthesized from the ack.
   * @default false
   */
  echo?: boolean
  /** Message id the server dedupes on. @default a generated unique id */
  id?: string
  /** @default the client's ackTimeoutMs */
  timeoutMs?: number
}

/** What `room.publish()` resolves to. */
export interface PublishResult {
  readonly seq: number
}

/** Options of `room.history()`. */
export interface HistoryOptions {
  /**
   * Messages with a `seq` below this one.
   * @default the oldest message the room delivered in its current epoch (all it has seen, if none)
   */
  before?: number
  /** At most this many (the server clamps it). @default the server's, 50 */
  limit?: number
}

/** A page of a room's older messages, from `room.history()`. */
export interface HistoryPage<P extends Protocol = UntypedProtocol> {
  /** Oldest first (newest last), typed and decoded like live messages. */
  readonly messages: readonly RoomMessage<P>[]
  /** Older messages exist: ask again with `before` set to the first one's `seq`. */
  readonly more: boolean
  /** The epoch the page belongs to (the room's current one when the server answered). */
  readonly epoch: string
}

/** Options of `room.loadMembers()`. */
export interface MembersPageOptions {
  /** Members whose id sorts after this one (the last id of the previous page). @default from the first */
  after?: string
  /** At most this many (the server clamps it to 1,000). @default the server's, 100 */
  limit?: number
}

/** A page of a room's members in id order, from `room.loadMembers()`. */
export interface MembersPage<P extends Protocol = UntypedProtocol> {
  readonly members: readonly Member<P>[]
  /** The room's member count when the page was read. */
  readonly count: number
  /** More members follow: ask again with `after` set to the last one's id. */
  readonly more: boolean
}

/** A joined room, shared by every holder of the same name. */
export interface Room<P extends Protocol = AnyProtocol> {
  readonly name: string
  /** Resolves at the first `joined`; rejects if the join is refused, the room is left or the client closes. */
  readonly ready: Promise<void>
  readonly status: RoomStatus
  readonly members: readonly Member<P>[]
  /** Publish an event; resolves with its `seq` at the ack, rejects with a {@link RoomwireError}. */
  publish<K extends EventName<P>>(
    event: K,
    data: EventInput<P, K>,
    options?: PublishOptions,
  ): Promise<PublishResult>
  on<K extends keyof RoomLifecycleEvents<P>>(event: K, handler: RoomLifecycleEvents<P>[K]): () => void
  on<K extends EventName<P>>(
    event: K,
    handler: (data: EventData<P, K>, meta: MessageMeta) => void,
  ): () => void
  /**
   * A page of the room's older messages (PROTOCOL.md, "Scrolling back"). Rejects with a
   * {@link RoomwireError}: `not_connected` while the room is not joined on an open connection,
   * `unavailable` when the server cannot reach its history (retry), `timeout`, `disconnected`.
   * @example
   * const { messages, more } = await room.history({ limit: 50 })
   */
  history(options?: HistoryOptions): Promise<HistoryPage<P>>
  /**
   * A page of the room's members, in id order (PROTOCOL.md, "Big rooms"): how a big room's members are
   * listed, where the snapshot holds only the count. Rejects like `history()`.
   * @example
   * const { members, more } = await room.loadMembers({ limit: 100 })
   */
  loadMembers(options?: MembersPageOptions): Promise<MembersPage<P>>
  /** Every application message in `seq` order, once, own publishes included once acknowledged. */
  onMessage(handler: (message: RoomMessage<P>) => void): () => void
  /**
   * The room's message log for these options: the same log for the same options while the room is
   * held. It lists what the room received since its `joined`, also before the log was asked for.
   * @example
   * const log = room.messageLog({ limit: 200, events: ['chat'] })
   * log.subscribe(() => render(log.getSnapshot()))
   */
  messageLog(options?: MessageLogOptions<P>): MessageLog<P>
  /** The same, with entries narrowed to the events of the filter (`room.messageLog<'chat'>({ events: ['chat'] })`). */
  messageLog<E extends EventName<P>>(options: MessageLogOptions<P, E>): MessageLog<P, E>
  /**
   * Call a request declared per room (`room: true`) in this room; resolves to its output. Sent once the
   * room is joined; rejects with a {@link RoomwireError} whose code is one the request declares, or
   * `timeout`, `disconnected`, `aborted`, `closed`, `left` (see `client.request`).
   */
  request<K extends RoomRequestName<P>>(name: K, ...args: RequestArgs<P, K>): Promise<RequestOutput<P, K>>
  /** Replace this member's presence state; resolves when the server has it. */
  setPresence(state: PresenceInput<P>): Promise<void>
  /** Release one reference; the last one leaves after `leaveGraceMs`. */
  leave(): void
  subscribe(listener: () => void): () => void
  getSnapshot(): RoomSnapshot<P>
}
