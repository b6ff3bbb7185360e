import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ClientMessage, Protocol, UntypedProtocol } from '@roomwire/protocol'
import type { Registry } from 'prom-client'
import type { RoomAdapter } from './adapter'
import { createAdmission } from './admission'
import { ConnectionRegistry } from './connection-registry'
import { type HandlerContext, handleMessage } from './handlers'
import type { AnyProtocol } from './hooks'
import { hostingMode, listen } from './http-listener'
import { createHttpHandler, healthOf } from './http-routes'
import { InFlight } from './in-flight'
import { createInbound } from './inbound'
import { resolveLimits } from './limits'
import { LocalRooms } from './local-rooms'
import { createLogger } from './logger'
import { createMemoryAdapter } from './memory-adapter'
import type { RoomServerOptions } from './options'
import { requestRunnerFor } from './request-setup'
import {
  attachNode,
  authenticatorOf,
  clockOf,
  connectionHost,
  handlerParts,
  metricsOf,
  startTimers,
  webSocketServer,
} from './room-server-parts'
import { createServerApi, type RoomInfo, type ServerApi } from './server-api'
import { Background, createSessions, runHook } from './sessions'
import { shutdown } from './shutdown'

export type { RoomInfo }

/** Options of {@link RoomServer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for clients to close and send buffers to drain before the rest are destroyed. Requests
   * being handled get this long to answer (their connection closes after the answer); then their
   * handlers' signals fire and their answers are dropped.
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
  const authenticate = authenticatorOf(options, limits.authTimeoutMs, clock)
  let lifecycle: Lifecycle = { state: 'running' }
  const isAccepting = () => lifecycle.state === 'running'
  const metrics = metricsOf(options, adapter, { connections: () => registry.size, rooms: () => local.size })
  const host = connectionHost(log, clock, limits, metrics)
  const local = new LocalRooms({
    sent: host.sent,
    maxPendingBytes: limits.maxBufferedBytes,
    memberListMax: limits.memberListMax,
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
    handle: (connection, msg, after) => handleMessage(ctx, connection, msg, after),
    pipelines: publishPipelines(options, adapter),
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
    clock,
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
        requests: ctx.requests,
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
 * Which messages may start before the ones ahead of them were answered (inbound.ts): publishes, on an
 * adapter that orders them as called. A hook may await before the adapter is called: hooked ones wait.
 */
function publishPipelines(options: RoomServerOptions, adapter: RoomAdapter) {
  const unhooked = options.authorize === undefined && options.onPublish === undefined
  // Read per message: the adapter knows only once attached (Redis: whether a history store is beside it).
  return (msg: ClientMessage): boolean =>
    unhooked && msg.type === 'publish' && adapter.publishesInOrder === true
}
