import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { ErrorCode, Protocol } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { RoomAdapter } from './adapter'
import { RoomServerError } from './errors'

/** What `authenticate` returns to accept a connection; `null` refuses it with 4001. */
export interface AuthResult {
  /** The identity, sent to others as `user`. */
  user?: string
  /** Anything the application wants to keep with the connection; handed back in hooks. */
  data?: unknown
}

/** A connection as hooks see it. */
export interface ConnectionInfo {
  readonly id: string
  readonly user: string | undefined
  /** What `authenticate` returned as `data`, or the verified JWT payload. */
  readonly data: unknown
  readonly remoteAddress: string | undefined
}

/** What `authorize` is asked. */
export type AuthorizeRequest =
  | {
      action: 'join' | 'presence'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      room: string
    }
  | {
      action: 'publish'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      room: string
      event: string
    }
  | {
      action: 'direct'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      to: string
      event: string
    }

/** A publish as `onPublish` sees it. */
export interface PublishContext {
  connection: ConnectionInfo
  room: string
  event: string
  data: unknown
  id: string | undefined
}

/** What `onPublish` decides: nothing (publish as is), new `data`, or a refusal sent back as `error`. */
export type PublishDecision = undefined | { data: unknown } | { error: ErrorCode; message?: string }

/** Hooks that may return a promise. */
type MaybePromise<T> = T | Promise<T>

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

/** Options of {@link createRoomServer}. Durations are milliseconds; sizes are bytes. */
export interface RoomServerOptions {
  /** Listen on this port (0: any free one). Exclusive with `server` and `noServer`. */
  port?: number
  /**
   * Interface to listen on with `port`.
   * @default '0.0.0.0'
   */
  host?: string
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
  protocol?: Protocol
  /** Storage and fan-out. @default createMemoryAdapter() */
  adapter?: RoomAdapter
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
   * Messages per second per connection (all but `ping`); 0 turns the limit off.
   * @default 100
   */
  rateLimitPerSec?: number
  /**
   * Token bucket size; also how many refusals in a row close the connection with 1008.
   * @default 200
   */
  rateLimitBurst?: number
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
   * Negotiate permessage-deflate. Off: compression costs CPU and memory and leaks through CRIME-style attacks.
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
  /** The clock, epoch milliseconds (for `ts`, rate limits and heartbeat). @default Date.now */
  now?: () => number
  /** Decide who connects; `null` refuses with 4001. Replaces the built-in JWT check when given. */
  authenticate?: (request: IncomingMessage) => MaybePromise<AuthResult | null>
  /** Allow or refuse `join`, `publish`, `presence` and `direct`; `false` answers `forbidden`. */
  authorize?: (request: AuthorizeRequest) => MaybePromise<boolean>
  onConnect?: (connection: ConnectionInfo) => MaybePromise<void>
  onDisconnect?: (connection: ConnectionInfo, close: { code: number; reason: string }) => MaybePromise<void>
  onJoin?: (connection: ConnectionInfo, room: string) => MaybePromise<void>
  onLeave?: (connection: ConnectionInfo, room: string) => MaybePromise<void>
  /** Runs before a publish gets its seq: refuse it, or change its data (persist chat here). */
  // biome-ignore lint/suspicious/noConfusingVoidType: an async hook that returns nothing publishes as is
  onPublish?: (context: PublishContext) => MaybePromise<PublishDecision | void>
}

/** The numeric limits after defaults, as the server uses them. */
export interface ResolvedLimits {
  maxMessageBytes: number
  maxPresenceBytes: number
  maxMembersPerRoom: number
  maxRoomsPerConnection: number
  historySize: number
  historyMaxBytes: number
  idleTimeoutMs: number
  replayBytesPerSec: number
  replayBurstBytes: number
  joinDrainTimeoutMs: number
  pingIntervalMs: number
  pongTimeoutMs: number
  maxConnections: number
  maxBufferedBytes: number
  rateLimitPerSec: number
  rateLimitBurst: number
  authTimeoutMs: number
  closeTimeoutMs: number
  shutdownSpreadMs: number
}

/** Defaults from PROTOCOL.md. */
export const DEFAULT_LIMITS: ResolvedLimits = {
  maxMessageBytes: 65_536,
  maxPresenceBytes: 2048,
  maxMembersPerRoom: 1000,
  maxRoomsPerConnection: 10,
  historySize: 100,
  historyMaxBytes: 1_048_576,
  idleTimeoutMs: 3_600_000,
  replayBytesPerSec: 1_048_576,
  replayBurstBytes: 33_554_432,
  joinDrainTimeoutMs: 30_000,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxBufferedBytes: 1_048_576,
  rateLimitPerSec: 100,
  rateLimitBurst: 200,
  authTimeoutMs: 10_000,
  closeTimeoutMs: 2000,
  shutdownSpreadMs: 1000,
}

const positive = new Set<keyof ResolvedLimits>([
  'maxMessageBytes',
  'maxPresenceBytes',
  'maxMembersPerRoom',
  'maxRoomsPerConnection',
  'pingIntervalMs',
  'pongTimeoutMs',
  'maxConnections',
  'maxBufferedBytes',
  'historyMaxBytes',
  'replayBurstBytes',
  'joinDrainTimeoutMs',
  'authTimeoutMs',
  'closeTimeoutMs',
])

/** Apply defaults and check every limit; throws `RoomServerError('invalid_config')` naming the option. */
export function resolveLimits(options: RoomServerOptions): ResolvedLimits {
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
    const value = options[key]
    if (value === undefined) continue
    const min = positive.has(key) ? 1 : 0
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new RoomServerError(
        'invalid_config',
        `option ${key} is ${JSON.stringify(value)}; expected a number ${min === 1 ? 'above 0' : 'of 0 or more'}`,
      )
    }
    limits[key] = value
  }
  for (const key of [
    'maxMessageBytes',
    'maxMembersPerRoom',
    'maxRoomsPerConnection',
    'historySize',
  ] as const) {
    if (!Number.isInteger(limits[key])) {
      throw new RoomServerError('invalid_config', `option ${key} is ${limits[key]}; expected an integer`)
    }
  }
  // Timers past 2^31-1 ms fire at once in Node; an idle timeout that long means "keep forever" in practice.
  limits.idleTimeoutMs = Math.min(limits.idleTimeoutMs, 2_147_483_647)
  return limits
}
