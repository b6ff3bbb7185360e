import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import type { ReconnectOptions } from './backoff'
import type { Clock } from './clock'
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
   * Reject a request with `timeout` when no answer came this long after the call (waiting for a
   * connection included). Longer than the server's handler timeout (10 s by default), so that the
   * server's own `timeout` answer normally comes first.
   * @default 15_000
   */
  requestTimeoutMs?: number
  /**
   * Receives handler exceptions when nothing listens to `error`.
   * @default console
   */
  logger?: Logger
}
