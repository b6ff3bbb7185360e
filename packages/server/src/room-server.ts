import { randomBytes } from 'node:crypto'
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type Protocol, SUBPROTOCOL, type UntypedProtocol } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { WebSocketServer } from 'ws'
import type { AdapterNode, RoomAdapter } from './adapter'
import { createAdmission } from './admission'
import { createAuthenticator } from './auth'
import { type Clock, systemClock } from './clock'
import { PER_MESSAGE_DEFLATE, startZlibSweep } from './compression'
import type { Connection, ConnectionHost } from './connection'
import { ConnectionRegistry } from './connection-registry'
import { RoomServerError } from './errors'
import { WriteCoalescer } from './frames'
import { type HandlerContext, handleMessage } from './handlers'
import { startHeartbeat } from './heartbeat'
import type { HistoryStore } from './history-store'
import type { AnyProtocol } from './hooks'
import { hostingMode, listen } from './http-listener'
import { createHttpHandler, healthOf, storeHealth } from './http-routes'
import { InFlight } from './in-flight'
import { createInbound } from './inbound'
import { type ResolvedLimits, resolveLimits } from './limits'
import { LocalRooms } from './local-rooms'
import { createLogger } from './logger'
import { createMemoryAdapter } from './memory-adapter'
import { createMetrics, type ServerMetrics } from './metrics'
import type { RoomServerOptions } from './options'
import { ReplayBudget } from './replay-budget'
import { requestRunnerFor } from './request-setup'
import { createServerApi, type RoomInfo, type ServerApi } from './server-api'
import { Background, createSessions, runHook } from './sessions'
import { shutdown } from './shutdown'

export type { RoomInfo }

/** Options of {@link RoomServer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for clients to close and send buffers to drain before the rest are destroyed.
   * @default 10_000
   */
  timeoutMs?: number
}

/** A running room server, typed by its protocol. Create it with {@link createRoomServer}. */
export interface RoomServer<P extends Protocol = AnyProtocol> extends ServerApi<P> {
  /** Resolves once the server listens (at once when attached or `noServer`); rejects if `listen` failed. */
  readonly ready: Promise<void>
  /** The HTTP server this room server listens on or is attached to. */
  readonly httpServer: HttpServer | undefined
  /** This server's Prometheus registry (`GET /metrics` serves it). */
  readonly metrics: Registry
  /** The address it listens on, once `ready` (null when attached or `noServer` and not yet listening). */
  address(): AddressInfo | null
  /** Complete a WebSocket upgrade for any HTTP framework (origin, auth and limits apply). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Serve `/health`, `/metrics`, the admin API and static files; resolves false when no route matched. */
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean>
  /** Stop accepting, tell clients, close them with 1001 spread over a short window, drain, release all. */
  close(options?: CloseOptions): Promise<void>
}

/** Where a server is in its life: only `running` accepts connections, publishes and broadcasts. */
type Lifecycle = { state: 'running' } | { state: 'closing' | 'closed'; done: Promise<void> }

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

/**
 * Create a room server: the server side of the roomwire protocol on `ws`. It listens on its own
 * (`{ port }`), attaches to an `http.Server` (`{ server }`), or is driven by `handleUpgrade` (`{ noServer }`).
 * This function only composes the parts (docs/ARCHITECTURE.md has the map) and holds the lifecycle.
 * @example
 * const server = createRoomServer({ port: 8080, protocol: chat })
 * await server.ready
 * await server.broadcast('lobby', 'announcement', { text: 'hello' })
 * The parts work on untyped messages. The types hold because the server validates every publish and
 * direct message with the protocol before a hook sees it, and every broadcast argument before it sends.
 */
export function createRoomServer<P extends Protocol = UntypedProtocol>(
  typedOptions: RoomServerOptions<P> = {},
): RoomServer<P> {
  const options = typedOptions as unknown as RoomServerOptions
  const mode = hostingMode(options)
  const limits = resolveLimits(options)
  const clock = clockOf(options)
  const log = createLogger(options.logger, options.logLevel)
  // The default adapter's idle expiry runs on the server's clock too, when one is injected.
  const adapter: RoomAdapter =
    options.adapter ?? createMemoryAdapter(options.clock === undefined ? {} : { clock })
  const authenticate = authenticatorOf(options, limits.authTimeoutMs)
  let lifecycle: Lifecycle = { state: 'running' }
  const isAccepting = () => lifecycle.state === 'running'
  const metrics = createMetrics({
    connections: () => registry.size,
    rooms: () => local.size,
    store:
      adapter.health === undefined && options.historyStore === undefined
        ? undefined
        : () => storeHealth(adapter, options.historyStore).up,
    adapterStats: adapter.stats === undefined ? undefined : () => adapter.stats!(),
  })
  const host = connectionHost(log, clock, limits, metrics)
  const local = new LocalRooms({
    sent: host.sent,
    maxPendingBytes: limits.maxBufferedBytes,
    overflow: (connection) => host.slowConsumer(connection),
  })
  // Publishes accepted and not yet acked (asynchronous adapters only): shutdown's notice waits for them.
  const publishes = new InFlight()
  const background = new Background(log)
  const ctx: HandlerContext = {
    ...handlerParts(options, limits, metrics),
    adapter,
    local,
    clock,
    isOpen: (connection) => registry.isOpen(connection),
    notify: (connection, name, run) => runHook(log, connection, name, run),
    publishes,
    isAccepting,
    slowConsumer: host.slowConsumer,
    requests: requestRunnerFor(options, {
      ...{ limits, clock, local, isAccepting, registry: metrics.registry, server: () => server },
      replyError: (...args) => inbound.replyError(...args),
    }),
  }
  const inbound = createInbound({
    limits,
    metrics,
    now: clock.now,
    log,
    handle: (connection, msg) => handleMessage(ctx, connection, msg),
  })
  const registry: ConnectionRegistry = new ConnectionRegistry({
    host,
    limits,
    sink: { sent: host.sent, overflow: host.slowConsumer },
    onFrame: inbound.onFrame,
    onClosed: (connection, code, reason) => sessions.closed(connection, code, reason),
  })
  const sessions = createSessions({
    limits,
    adapter,
    local,
    registry,
    metrics,
    log,
    background,
    hooks: options,
    requests: ctx.requests,
  })
  const attached = attachNode(adapter, local, registry, limits, clock, options.historyStore)

  const wss = webSocketServer(limits, options.perMessageDeflate === true)
  const { handleUpgrade } = createAdmission({
    wss,
    limits,
    allowedOrigins: options.allowedOrigins === undefined ? undefined : new Set(options.allowedOrigins),
    trustedProxies: options.trustedProxies ?? [],
    authenticate,
    metrics,
    log,
    now: clock.now,
    clock,
    isAccepting,
    openConnections: () => registry.size,
    accepted: sessions.opened,
  })

  const serverApi = createServerApi({
    limits,
    protocol: options.protocol,
    adapter,
    registry,
    clock,
    publishes,
    isAccepting,
  })
  const handleRequest = createHttpHandler({
    registry: metrics.registry,
    adminToken: options.adminToken,
    staticDir: options.staticDir,
    maxBodyBytes: limits.maxMessageBytes,
    maxNestingDepth: limits.maxNestingDepth,
    log,
    health: () => healthOf(adapter, options.historyStore, isAccepting(), registry.size, local.size),
    broadcast: serverApi.broadcast,
    roomInfo: serverApi.roomInfo,
  })
  const listener = listen(mode, { path: options.path ?? '/ws', handleUpgrade, handleRequest })
  const ready = Promise.all([listener.ready, attached]).then(() => undefined)
  // Nobody may await `ready`; a failed listen must not become an unhandled rejection as well as a log line.
  ready.catch((err: unknown) => log.error({ err }, 'server failed to start'))

  const stopTimers = startTimers(limits, clock, registry, options.perMessageDeflate === true)

  function close(closeOptions?: CloseOptions): Promise<void> {
    if (lifecycle.state !== 'running') return lifecycle.done
    const done = shutdown(
      {
        clock,
        spreadMs: limits.shutdownSpreadMs,
        stopTimers,
        listener,
        publishes,
        registry,
        background,
        attached,
        adapter,
        historyStore: options.historyStore,
        wss,
        clearMetrics: () => metrics.registry.clear(),
      },
      closeOptions?.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    ).finally(() => {
      lifecycle = { state: 'closed', done }
    })
    lifecycle = { state: 'closing', done }
    return done
  }

  const server: RoomServer = {
    ...serverApi,
    ready,
    httpServer: listener.httpServer,
    metrics: metrics.registry,
    address: listener.address,
    handleUpgrade,
    handleRequest,
    close,
  }
  return server as unknown as RoomServer<P>
}

/**
 * Attach the adapter to this node. The AdapterNode is the adapter seam (docs/decisions/001): the one way
 * back down from the adapter into this node's rooms and sockets.
 */
function attachNode(
  adapter: RoomAdapter,
  local: LocalRooms,
  registry: ConnectionRegistry,
  limits: ResolvedLimits,
  clock: Clock,
  historyStore: HistoryStore | undefined,
): Promise<void> {
  const node: AdapterNode = {
    nodeId: `n_${randomBytes(6).toString('base64url')}`,
    deliver: (room, message, options) => local.deliver(room, message, options),
    deliverDirect: (target, message) => registry.deliverDirect(target, message),
  }
  return Promise.resolve(
    adapter.attach(node, {
      historySize: limits.historySize,
      historyMaxBytes: limits.historyMaxBytes,
      idleTimeoutMs: limits.idleTimeoutMs,
      now: clock.now,
      ...(historyStore === undefined ? {} : { historyStore }),
    }),
  )
}

/** The server's clock: `clock` (the system's by default), with `now` in its place when given. */
function clockOf(options: RoomServerOptions): Clock {
  const clock = options.clock ?? systemClock
  return options.now === undefined ? clock : { ...clock, now: options.now }
}

/** The parts of the handlers' context that come straight from the options and the metrics. */
function handlerParts(options: RoomServerOptions, limits: ResolvedLimits, metrics: ServerMetrics) {
  return {
    limits,
    protocol: options.protocol,
    hooks: options,
    replayBudget: new ReplayBudget(limits.replayBytesPerSec, limits.replayBurstBytes),
    replayCounters: {
      sent: (bytes: number) => metrics.replayedBytes.inc(bytes),
      refused: () => metrics.replayRefusals.inc(),
    },
  }
}

/** What every connection shares: the logger, the clock, write coalescing, counters, the slow-consumer close. */
function connectionHost(
  log: Logger,
  clock: Clock,
  limits: ResolvedLimits,
  metrics: ServerMetrics,
): ConnectionHost {
  return {
    log,
    clock,
    writes: new WriteCoalescer(),
    maxBufferedBytes: limits.maxBufferedBytes,
    closeTimeoutMs: limits.closeTimeoutMs,
    sent(frames, bytes) {
      metrics.traffic.framesOut += frames
      metrics.traffic.bytesOut += bytes
    },
    slowConsumer(connection: Connection) {
      metrics.slowConsumers.inc()
      connection.log.warn({ buffered: connection.ws.bufferedAmount }, 'slow consumer closed')
      connection.close(4008, 'slow consumer: send buffer overflowed')
    },
  }
}

/** ws in `noServer` mode: the listener and admission decide which upgrades reach it. */
function webSocketServer(limits: ResolvedLimits, deflate: boolean): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: deflate ? PER_MESSAGE_DEFLATE : false,
    // Select roomwire.v1 when offered. When only unknown subprotocols are offered, select one anyway so the
    // handshake completes and the client can read the 4400 close (a missing answer fails it as 1006).
    handleProtocols: (offered: Set<string>) =>
      offered.has(SUBPROTOCOL) ? SUBPROTOCOL : (offered.values().next().value ?? false),
  })
}

/** The timers of a running server, one for all connections each: the heartbeat and the zlib sweep. */
function startTimers(limits: ResolvedLimits, clock: Clock, registry: ConnectionRegistry, deflate: boolean) {
  const stopHeartbeat = startHeartbeat({
    pingIntervalMs: limits.pingIntervalMs,
    pongTimeoutMs: limits.pongTimeoutMs,
    clock,
    connections: () => registry.values(),
    onTimeout(connection) {
      connection.log.info('heartbeat timed out')
      connection.terminate()
    },
  })
  const stopZlibSweep = deflate
    ? startZlibSweep(clock, limits.pingIntervalMs, () => registry.values())
    : () => {}
  return () => {
    stopHeartbeat()
    stopZlibSweep()
  }
}

/** The authenticator of these options; `auth.required` without a way to verify anyone is a config error. */
function authenticatorOf(options: RoomServerOptions, timeoutMs: number) {
  if (options.auth?.required === true && options.authenticate === undefined) {
    if (options.auth.jwtSecret === undefined && options.auth.jwksUrl === undefined) {
      throw new RoomServerError(
        'invalid_config',
        'auth.required needs auth.jwtSecret, auth.jwksUrl or authenticate',
      )
    }
  }
  return createAuthenticator({ authenticate: options.authenticate, auth: options.auth ?? {}, timeoutMs })
}
