import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Protocol } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { RoomAdapter } from './adapter'
import type { Clock } from './clock'
import type { HistoryStore } from './history-store'
import type {
  AnyProtocol,
  AuthorizeRequest,
  AuthResult,
  ConnectionInfo,
  MaybePromise,
  PublishContext,
  PublishDecision,
} from './hooks'
import type { RequestHandlers } from './request-types'

// The hook types and the limits have files of their own; what the server's parts import from here still
// resolves while they move (issue 14).
export type { AuthorizeRequest, AuthResult, ConnectionInfo, PublishContext, PublishDecision } from './hooks'
export { DEFAULT_LIMITS, type ResolvedLimits, resolveLimits } from './limits'

/** HS256 or JWKS verification of a token from `?token=` or `Authorization: Bearer`. */
export interface AuthOptions {
  /**
   * Refuse connections without a valid identity (4001). Without it, a connection with no token is
   * anonymous; a connection with a bad token is still refused.
   * @default false
   */
  required?: boolean
  /** HS256 secret. */
  jwtSecret?: string
  /** A JWKS URL (RS256, ES256, EdDSA, ...); keys are fetched and cached by `jose`. */
  jwksUrl?: string
  /**
   * Clock skew allowed on `exp` and `nbf`.
   * @default 5000
   */
  clockToleranceMs?: number
}

/**
 * Options of {@link createRoomServer}. Durations are milliseconds; sizes are bytes. With a `protocol`, the
 * hooks (`authorize`, `onPublish`) are typed from it.
 */
export interface RoomServerOptions<P extends Protocol = AnyProtocol> {
  /** Listen on this port (0: any free one). Exclusive with `server` and `noServer`. */
  port?: number
  /**
   * Interface to listen on with `port`.
   * @default '0.0.0.0'
   */
  host?: string
  /**
   * With `port`: connections the kernel holds while the server is busy accepting, before it drops new
   * ones (a dropped connection's client tries again only 1, 3 or 7 s later). The kernel caps it
   * (`net.core.somaxconn` on Linux).
   * @default 4096
   */
  backlog?: number
  /** Attach to this HTTP server's `upgrade` event; `handleRequest` serves health, metrics and admin. */
  server?: HttpServer
  /** Neither listen nor attach: the application calls `handleUpgrade` (and `handleRequest`). */
  noServer?: boolean
  /**
   * WebSocket path.
   * @default '/ws'
   */
  path?: string
  /** The application protocol from `defineProtocol`; without it any event and payload is accepted. */
  protocol?: P
  /**
   * The handlers of the protocol's requests, one per declared request (PROTOCOL.md, "Requests").
   * @example
   * handlers: { createRoom: async ({ name }, ctx) => ({ id: await rooms.create(name, ctx.connection.user) }) }
   */
  handlers?: RequestHandlers<P>
  /**
   * Requests a connection may have being handled at once; more are refused with `too_many_requests`.
   * Announced in `welcome.limits.maxRequestsInFlight`.
   * @default 16
   */
  maxRequestsInFlight?: number
  /**
   * A request handler runs at most this long: then its `ctx.signal` fires and the caller gets `timeout`.
   * @default 10_000
   */
  requestTimeoutMs?: number
  /**
   * Replies of idempotent requests this node remembers, to answer a resend with the first result (0: none).
   * @default 10_000
   */
  requestDedupeEntries?: number
  /**
   * How long a remembered reply of an idempotent request answers resends.
   * @default 300_000
   */
  requestDedupeMs?: number
  /** Storage and fan-out. @default createMemoryAdapter() */
  adapter?: RoomAdapter
  /**
   * Where rooms' messages are kept for good (`createPostgresHistory` from `@roomwire/server/postgres`):
   * every room continues from it after a restart (same epoch and seq), a publish is acknowledged only once
   * stored, dedupe by message id asks it, and history pages come from it. The server closes it last.
   * Supported by the memory adapter, and by the Redis adapter with a store that assigns seqs (`appendNext`,
   * as `createPostgresHistory` does): then a Redis flush or failover continues every room from the store.
   * @default none: the adapter's own history (what a join may replay) is all there is
   */
  historyStore?: HistoryStore
  /**
   * Largest frame a client may send; larger ones close the connection with 1009.
   * @default 65536
   */
  maxMessageBytes?: number
  /**
   * Largest presence state, as JSON bytes; larger ones get `too_large`.
   * @default 2048
   */
  maxPresenceBytes?: number
  /**
   * Members per room, cluster-wide (`room_full`).
   * @default 1000
   */
  maxMembersPerRoom?: number
  /**
   * Counts mode (issue 20): a room with more members than this tells its members the count
   * (`member_count`) instead of every join, leave and presence change, and lists members page by page on
   * request (`members_page`); the room goes back to lists for new joiners once it has at most 90% of
   * this. 0: always the whole list.
   * @default 1000
   */
  memberListMax?: number
  /**
   * Rooms one connection may be in (`too_many_rooms`).
   * @default 10
   */
  maxRoomsPerConnection?: number
  /**
   * Messages kept per room for `since` resume, `history` replay and publish dedupe.
   * @default 100
   */
  historySize?: number
  /**
   * Bytes of encoded messages a room's history may hold; past it the oldest go first.
   * @default 1_048_576
   */
  historyMaxBytes?: number
  /**
   * How long an empty room keeps its seq, epoch and history.
   * @default 3_600_000
   */
  idleTimeoutMs?: number
  /**
   * Messages one `history` page may hold at most (a client's `limit` is clamped to it; its default is 50
   * or this, the smaller).
   * @default 200
   */
  historyPageMax?: number
  /**
   * Bytes a second one connection's joins may send of `joined`, member pages and replayed messages (the
   * replay budget); a join while the budget is spent gets `rate_limited` and changes nothing. 0 turns it off.
   * @default 1_048_576
   */
  replayBytesPerSec?: number
  /**
   * What a connection's replay budget holds when full, and when it connects: enough for a reconnect that
   * joins every room again with its whole history (`maxRoomsPerConnection` x (`historyMaxBytes` + a full
   * member list)) is never refused.
   * @default 33_554_432
   */
  replayBurstBytes?: number
  /**
   * How long a join's member pages and replay may wait for the connection's socket to drain, at a time,
   * before the connection is closed as a slow consumer (4008; it resumes with `since`).
   * @default 30_000
   */
  joinDrainTimeoutMs?: number
  /**
   * Interval between WebSocket pings.
   * @default 30_000
   */
  pingIntervalMs?: number
  /**
   * Extra silence allowed after a ping interval before the connection is terminated.
   * @default 10_000
   */
  pongTimeoutMs?: number
  /**
   * Open connections this server accepts; more are closed with 1013 after the upgrade.
   * @default 10_000
   */
  maxConnections?: number
  /**
   * Outgoing bytes that may wait for one connection; past it the connection is closed with 4008.
   * @default 1_048_576
   */
  maxBufferedBytes?: number
  /**
   * How many levels of arrays and objects `data` and presence `state` may nest. Deeper client frames are
   * refused with `bad_request` before they are parsed (the connection stays), and the server's own entry
   * points (`broadcast*`, `sendDirect`, the admin API, data returned by `onPublish`) refuse the same depth.
   * Announced in `welcome.limits.maxNestingDepth`. At most 32, the protocol's own bound.
   * @default 32
   */
  maxNestingDepth?: number
  /**
   * Messages per second per connection, `ping` included. Past it: `rate_limited`. 0 turns rate limiting off
   * (the byte budget too, unless `rateLimitBytesPerSec` is given).
   * @default 100
   */
  rateLimitPerSec?: number
  /**
   * Token bucket size of the message rate; also how many `rate_limited` refusals within
   * `rateLimitWindowMs` a connection may get before it is closed with 1008 (as it is once the frames
   * refused in that window add up to more than `rateLimitBytesBurst` bytes).
   * @default 200
   */
  rateLimitBurst?: number
  /**
   * The sliding window over which refusals are counted for the 1008 close: a flood at any rate over the
   * limit is closed once it collects more than `rateLimitBurst` refusals, or more than
   * `rateLimitBytesBurst` refused bytes, within this window.
   * @default 10_000
   */
  rateLimitWindowMs?: number
  /**
   * Bytes of frames per second per connection (every frame counts its payload, `ping` and refused frames
   * included); 0 turns the budget off. Past it: `rate_limited` naming the byte budget. At the default a
   * connection may keep sending 100 messages a second of up to 2.6 KB each, or four of the largest.
   * @default 262_144, or 0 when `rateLimitPerSec` is 0
   */
  rateLimitBytesPerSec?: number
  /**
   * Bucket size of the byte budget: how many bytes may arrive at once. At least `maxMessageBytes` (so the
   * largest frame can always pass when the bucket is full).
   * @default 1_048_576, or maxMessageBytes when that is larger
   */
  rateLimitBytesBurst?: number
  /**
   * Connections one client address may have open or opening (an IPv6 address counts by its /64); more are
   * closed with 1013 right after the upgrade. Loopback peers (127.0.0.0/8, ::1) are not capped: they are
   * this host or a proxy on it. Behind a proxy elsewhere, set `trustedProxies`, or every client counts as
   * the proxy's address. 0 turns the cap off. The default lets an office behind one NAT in (browsers open
   * at most 200-255 WebSockets each) while one host cannot take more than a tenth of `maxConnections`.
   * @default 1000
   */
  maxConnectionsPerAddress?: number
  /**
   * Addresses or CIDR ranges (`10.0.0.0/8`, `::1`) of reverse proxies whose `X-Forwarded-For` names the
   * client: only then is the header read (from the right, skipping these proxies). The client address is
   * what connection caps, failed-auth backoff, logs and `ConnectionInfo.remoteAddress` use.
   * @default []
   */
  trustedProxies?: readonly string[]
  /**
   * Failed authentications from one address within `authFailureWindowMs` that start a backoff: its
   * upgrades are then closed with 1013 without being authenticated. Loopback peers are never backed off.
   * 0 turns backoff off.
   * @default 20
   */
  authFailuresPerAddress?: number
  /**
   * The sliding window over which failed authentications per address are counted.
   * @default 60_000
   */
  authFailureWindowMs?: number
  /**
   * The first backoff of an address; each further one doubles, up to `authBackoffMaxMs`.
   * @default 5_000
   */
  authBackoffMs?: number
  /**
   * The longest backoff; an address quiet this long after its backoff starts over at `authBackoffMs`.
   * @default 300_000
   */
  authBackoffMaxMs?: number
  /** Exact `Origin` values allowed to connect (403 otherwise). Requests with no `Origin` are allowed. */
  allowedOrigins?: readonly string[]
  /** Built-in JWT verification. */
  auth?: AuthOptions
  /**
   * How long `authenticate` (or a JWKS fetch) may take before the connection is closed with 4001.
   * @default 10_000
   */
  authTimeoutMs?: number
  /** Enables the admin API (`Authorization: Bearer <adminToken>`); 404 while unset. */
  adminToken?: string
  /** Serve the files of this folder over HTTP (own server only, or through `handleRequest`). */
  staticDir?: string
  /**
   * Negotiate permessage-deflate, without context takeover, with a small server window, and with idle
   * zlib streams freed every `pingIntervalMs`, so an idle compressed connection holds no zlib state (the
   * server README, "Bounds at the edges"). Off: compression costs CPU and memory and leaks through
   * CRIME-style attacks.
   * @default false
   */
  perMessageDeflate?: boolean
  /**
   * How long a close handshake (slow consumer, `disconnect`) may take before the socket is destroyed.
   * @default 2000
   */
  closeTimeoutMs?: number
  /**
   * Window over which `close()` spreads its 1001 closes, so clients do not all come back at once.
   * @default 1000
   */
  shutdownSpreadMs?: number
  /** A pino logger (child loggers carry the connection id). */
  logger?: Logger
  /**
   * Level of the logger created when `logger` is absent.
   * @default 'silent'
   */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /**
   * The time source alone, epoch milliseconds (for `ts` and rate limits); `clock.now` when absent.
   * @default Date.now
   */
  now?: () => number
  /**
   * Where the server gets time and timers from: the heartbeat, rate limits, close, drain and shutdown
   * timeouts run on it, so tests can drive them exactly (no global fake timers). `now`, when given too,
   * overrides its `now`.
   * @default the system clock (Date.now and unref'd global timers)
   */
  clock?: Clock
  /** Decide who connects; `null` refuses with 4001. Replaces the built-in JWT check when given. */
  authenticate?: (request: IncomingMessage) => MaybePromise<AuthResult | null>
  /** Allow or refuse `join`, `publish`, `presence` and `direct`; `false` answers `forbidden`. */
  authorize?: (request: AuthorizeRequest<P>) => MaybePromise<boolean>
  onConnect?: (connection: ConnectionInfo) => MaybePromise<void>
  onDisconnect?: (connection: ConnectionInfo, close: { code: number; reason: string }) => MaybePromise<void>
  onJoin?: (connection: ConnectionInfo, room: string) => MaybePromise<void>
  onLeave?: (connection: ConnectionInfo, room: string) => MaybePromise<void>
  /** Runs before a publish gets its seq: refuse it, or change its data (persist chat here). */
  // biome-ignore lint/suspicious/noConfusingVoidType: an async hook that returns nothing publishes as is
  onPublish?: (context: PublishContext<P>) => MaybePromise<PublishDecision | void>
}
