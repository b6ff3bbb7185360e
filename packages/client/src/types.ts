import type {
  DirectData,
  DirectInput,
  DirectName,
  EventData,
  EventInput,
  EventName,
  Limits,
  PresenceInput,
  PresenceState,
  Protocol,
  UntypedProtocol,
  WelcomeMessage,
} from '@roomwire/protocol'
import type { ReconnectOptions } from './backoff'
import type { Clock } from './clock'
import type { RoomwireError } from './errors'
import type { WebSocketConstructor } from './web-socket'

/** A token, or a function called before every connection attempt (sync or async). */
export type TokenProvider = string | (() => string | null | undefined | Promise<string | null | undefined>)

/** The client's own heartbeat bounds: they can only shorten what the server's `welcome` asks for. */
export interface HeartbeatOptions {
  /**
   * Send an application `ping` at most this long after the previous one.
   * @default the server's `welcome.heartbeat.interval`
   */
  intervalMs?: number
  /**
   * Drop the connection when no frame at all arrives within this long after a `ping`.
   * @default the server's `welcome.heartbeat.timeout`
   */
  timeoutMs?: number
}

/** Bounds of the outbox: publishes waiting to be sent or acknowledged. */
export interface OutboxOptions {
  /**
   * Most unacknowledged publishes over all rooms; more reject with `outbox_full`.
   * @default 1_000
   */
  maxMessages?: number
  /**
   * Most bytes of unacknowledged publish frames over all rooms; more reject with `outbox_full`.
   * @default 1_048_576
   */
  maxBytes?: number
}

/** Bounds of what a room holds behind a gap in `seq` until the gap fills. */
export interface HoldOptions {
  /**
   * Most messages held per room; one more joins the room again with `since` at once (the server
   * replays the gap and what was not held). About ten times the server's default history (100).
   * @default 1_000
   */
  maxMessages?: number
  /**
   * Most bytes of held frames per room (counted as the frames' length). An honest server has at most
   * its `max_buffered_bytes` (1 MiB by default) in flight to a connection, so more is not a reorder.
   * @default 1_048_576
   */
  maxBytes?: number
}

/** Where the client reports what it cannot throw: failed handlers, odd frames. */
export interface Logger {
  error(message: string, error: unknown): void
}

/** Options of {@link createClient}. */
export interface ClientOptions<P extends Protocol = UntypedProtocol> {
  /** Server URL, such as `wss://example.com/ws`. */
  url: string
  /** The application protocol from `defineProtocol`: types every event, and payloads are checked before sending. */
  protocol?: P
  /** Sent as the `token` query parameter of every connection attempt. */
  token?: TokenProvider
  /**
   * Backoff between reconnection attempts; `false` never reconnects by itself.
   * @default reconnectDefaults
   */
  reconnect?: ReconnectOptions | false
  /** Shorter heartbeat than the server asks for (never longer). */
  heartbeat?: HeartbeatOptions
  /**
   * The WebSocket constructor, looked up at every connect.
   * @default globalThis.WebSocket, else isomorphic-ws (`ws` in Node)
   */
  WebSocket?: WebSocketConstructor
  /**
   * Connect at once. With `false`, construction touches no socket, timer or browser global until
   * `connect()` (for server rendering).
   * @default true
   */
  autoConnect?: boolean
  /** @default systemClock */
  clock?: Clock
  /**
   * Randomness in [0, 1) for backoff jitter and message ids.
   * @default Math.random
   */
  random?: () => number
  outbox?: OutboxOptions
  /**
   * Reject a publish, direct or presence update with `timeout` when no answer came this long after it
   * was written to an open socket.
   * @default 10_000
   */
  ackTimeoutMs?: number
  /**
   * After the last `room.leave()`, wait this long before sending `leave`, so that a quick re-join (a UI
   * that mounts twice) costs nothing on the wire.
   * @default 500
   */
  leaveGraceMs?: number
  /**
   * Give up on an attempt that has not reached `welcome` after this long, and back off.
   * @default 10_000
   */
  connectTimeoutMs?: number
  /**
   * In browsers, a page visible again after being hidden this long retries at once (or checks its
   * connection with a ping when it is open).
   * @default 30_000
   */
  resumeAfterHiddenMs?: number
  /**
   * How long a room waits for a missing `seq` (a gap) before it joins again with `since`, and then
   * how long it waits for that rejoin to fill it before it gives up (`resync` with reason `gap`).
   * Nothing after a gap is delivered meanwhile.
   * @default 5_000
   */
  gapTimeoutMs?: number
  /** Bounds of the messages each room holds behind a gap. */
  hold?: HoldOptions
  /**
   * A connection counts as healthy once every held room is joined (or refused for good) and it stayed
   * open this long; only then does the backoff's attempt counter restart. Not at `welcome`: a server
   * that closes right after `welcome` would otherwise be retried at the shortest delay forever.
   * @default 5_000
   */
  healthyAfterMs?: number
  /**
   * Most members kept per room, whatever a server sends; members past it are left out and reported as
   * `bad_frame` on `error`. Ten times the reference server's default room size.
   * @default 10_000
   */
  maxMembers?: number
  /**
   * How many recent messages each room keeps from its `joined` on (at least the join's `history`), so
   * that a {@link MessageLog} made later, such as by a component that mounts after the join, starts
   * with them.
   * @default 100
   */
  recentMessages?: number
  /**
   * Receives handler exceptions when nothing listens to `error`.
   * @default console
   */
  logger?: Logger
}

/** Connection status. `idle` until `connect()` when `autoConnect` is false. */
export type ClientStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized'

/** The client's state, immutable, the same object until something in it changed. */
export interface ClientSnapshot {
  readonly status: ClientStatus
  /** This connection's id from `welcome`; null while not open. */
  readonly id: string | null
  /** The authenticated user from `welcome`; null while not open or anonymous. */
  readonly user: string | null
  /**
   * Failed attempts in a row since the last healthy connection (rooms joined, open for
   * `healthyAfterMs`): a connection that drops soon after `welcome` does not restart the backoff.
   */
  readonly attempt: number
  /** When the next attempt starts, on the clock's scale (`Date.now()` by default); null unless waiting. */
  readonly retryAt: number | null
  readonly lastError: RoomwireError | null
  /** Code of the last close the client did not ask for. */
  readonly closeCode: number | null
}

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
  readonly self: Member<P> | null
  /** The last `seq` delivered (0 before any). */
  readonly seq: number
  readonly epoch: string | null
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

/** Where a message of a {@link MessageLog} stands. Own messages go `sending` → `delivered` (acked) or `failed`. */
export type DeliveryStatus = 'sending' | 'delivered' | 'received' | 'failed'

/** One entry of a {@link MessageLog}, frozen. */
export interface MessageLogEntry<P extends Protocol = UntypedProtocol> {
  /** Stable key (a React key): the message id, kept from `sending` to `delivered`. */
  readonly key: string
  readonly event: EventName<P>
  readonly data: EventData<P, EventName<P>>
  /** The sender's connection id (`"server"` for server broadcasts); null while sending or after a failure. */
  readonly from: string | null
  /** The room's sequence number; null while sending or after a failure. */
  readonly seq: number | null
  readonly ts: number
  readonly own: boolean
  readonly status: DeliveryStatus
  /** Why sending failed (`rate_limited`, `too_large`, …), for `failed` entries. */
  readonly error?: RoomwireError
}

/** Options of `room.messageLog()`. */
export interface MessageLogOptions<P extends Protocol = UntypedProtocol> {
  /**
   * Keep at most this many received and delivered messages (the newest).
   * @default 100
   */
  limit?: number
  /** Only list these events (an empty list: every event). @default every event */
  events?: readonly EventName<P>[]
}

/**
 * A bounded list of a room's recent messages with the delivery state of own ones, for chat UIs: a
 * `subscribe`/`getSnapshot` store (`useSyncExternalStore`). It starts with what the room received since
 * its `joined` (up to `recentMessages`), so a log made after the join misses nothing.
 */
export interface MessageLog<P extends Protocol = UntypedProtocol> {
  subscribe(listener: () => void): () => void
  /**
   * Oldest first: received and delivered messages in `seq` order, then failed and sending ones. Frozen,
   * the same array until something in it changed.
   */
  getSnapshot(): readonly MessageLogEntry<P>[]
  /** Publish and list a message; it shows as `sending`, then `delivered` or `failed`. Never rejects. */
  send<K extends EventName<P>>(event: K, data: EventInput<P, K>): Promise<void>
  /** Publish a failed message again (with a new key). */
  retry(key: string): void
  /** Remove a failed message from the list. */
  dismiss(key: string): void
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

/** What a direct-message handler gets besides the data. */
export interface DirectMeta {
  readonly from: string
  readonly ts: number
}

/** A joined room, shared by every holder of the same name. */
export interface Room<P extends Protocol = UntypedProtocol> {
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
  /** Replace this member's presence state; resolves when the server has it. */
  setPresence(state: PresenceInput<P>): Promise<void>
  /** Release one reference; the last one leaves after `leaveGraceMs`. */
  leave(): void
  subscribe(listener: () => void): () => void
  getSnapshot(): RoomSnapshot<P>
}

/** Client events. */
export interface ClientEvents {
  status: (snapshot: ClientSnapshot) => void
  /**
   * Something the app cannot see in the state: a final stop, a server error without a pending request, a
   * frame that fails the protocol, a handler that threw. Routine disconnects are in the snapshot instead.
   */
  error: (error: RoomwireError) => void
  welcome: (welcome: WelcomeMessage) => void
}

/** A roomwire client: one connection, any number of rooms. */
export interface Client<P extends Protocol = UntypedProtocol> {
  readonly status: ClientStatus
  readonly id: string | null
  readonly user: string | null
  /** The server's limits from the last `welcome`. */
  readonly limits: Limits | null
  on<K extends keyof ClientEvents>(event: K, handler: ClientEvents[K]): () => void
  subscribe(listener: () => void): () => void
  getSnapshot(): ClientSnapshot
  /** Start connecting (needed only with `autoConnect: false`, or after `close()`). */
  connect(): void
  /** Start a new attempt now with a fresh backoff, also after the client stopped retrying. */
  reconnect(): void
  /** Join a room, or take one more reference to it. */
  join(name: string, options?: JoinOptions<P>): Room<P>
  /** Send a direct message to a connection id; resolves at the ack. */
  direct<K extends DirectName<P>>(to: string, event: K, data: DirectInput<P, K>): Promise<void>
  onDirect<K extends DirectName<P>>(
    event: K,
    handler: (data: DirectData<P, K>, meta: DirectMeta) => void,
  ): () => void
  /** Close for good: rejects pending operations with `closed`, leaves rooms, and stops every timer. */
  close(): void
}
