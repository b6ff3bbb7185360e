import { randomBytes } from 'node:crypto'
import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import {
  type DirectEventMessage,
  type Member,
  PROTOCOL_VERSION,
  RoomNameSchema,
  SUBPROTOCOL,
} from '@roomwire/protocol'
import type { Registry } from 'prom-client'
import type WebSocket from 'ws'
import { WebSocketServer } from 'ws'
import type { AdapterNode, ConnectionTarget, RoomAdapter } from './adapter'
import { createAdmission } from './admission'
import { type AuthOutcome, createAuthenticator, redactUrl } from './auth'
import { PER_MESSAGE_DEFLATE, startZlibSweep } from './compression'
import { Connection, type ConnectionHost, framePayload, textFrame, WriteCoalescer } from './connection'
import { RoomServerError } from './errors'
import { startHeartbeat } from './heartbeat'
import { createHttpHandler } from './http-routes'
import { InFlight } from './in-flight'
import { createInbound } from './inbound'
import { LocalRooms } from './local-rooms'
import { createLogger } from './logger'
import { createMemoryAdapter } from './memory-adapter'
import { type HandlerContext, handleMessage, joinInFlight } from './message-handlers'
import { closeCodeLabel, createMetrics } from './metrics'
import type { ConnectionInfo, PublishContext, RoomServerOptions } from './options'
import { resolveLimits } from './options'
import { ReplayBudget } from './replay-budget'
import { checkConnectionId, checkConnectionIds, checkEvent, checkPayload, checkRoom } from './server-input'

/** A room's state across the cluster, from {@link RoomServer.roomInfo}. */
export interface RoomInfo {
  room: string
  memberCount: number
  members: Member[]
  seq: number
  epoch: string
}

/** Options of {@link RoomServer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for clients to close and send buffers to drain before the rest are destroyed.
   * @default 10_000
   */
  timeoutMs?: number
}

/** A running room server. Create it with {@link createRoomServer}. */
export interface RoomServer {
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
  /** Publish a server message to a room: it gets a `seq` like any publish, `from: "server"`. */
  broadcast(room: string, event: string, data: unknown): Promise<{ seq: number }>
  /** Send a `direct` frame (`from: "server"`) to every connection. */
  broadcastAll(event: string, data: unknown): Promise<void>
  /** Send a `direct` frame to these connections. */
  broadcastTo(connectionIds: readonly string[], event: string, data: unknown): Promise<void>
  /** Send a `direct` frame to every connection but these. */
  broadcastExcept(connectionIds: readonly string[], event: string, data: unknown): Promise<void>
  /** Send a `direct` frame to one connection on any node; false when it is not connected. */
  sendDirect(connectionId: string, event: string, data: unknown): Promise<boolean>
  /** A room's state, or null when none is held. */
  roomInfo(room: string): Promise<RoomInfo | null>
  /** Rooms that have members. */
  rooms(): Promise<string[]>
  /** Connections open on this node. */
  connections(): ConnectionInfo[]
  /** Close one connection of this node; false when it is not here. */
  disconnect(connectionId: string, code?: number, reason?: string): boolean
  /** Stop accepting, tell clients, close them with 1001 spread over a short window, drain, release all. */
  close(options?: CloseOptions): Promise<void>
}

function newConnectionId(): string {
  return `c_${randomBytes(9).toString('base64url')}`
}

/** Whether `value` is a promise-like (a hook may return one from another realm, or a thenable). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function abortHandshake(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

/**
 * Create a room server: the server side of the roomwire protocol on `ws`. It listens on its own
 * (`{ port }`), attaches to an `http.Server` (`{ server }`), or is driven by `handleUpgrade` (`{ noServer }`).
 * @example
 * const server = createRoomServer({ port: 8080, protocol: chat })
 * await server.ready
 * await server.broadcast('lobby', 'announcement', { text: 'hello' })
 */
export function createRoomServer(options: RoomServerOptions = {}): RoomServer {
  const limits = resolveLimits(options)
  const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true]
  if (modes.filter(Boolean).length !== 1) {
    throw new RoomServerError('invalid_config', 'give exactly one of port, server or noServer')
  }
  const now = options.now ?? Date.now
  const path = options.path ?? '/ws'
  const protocol = options.protocol
  const log = createLogger(options.logger, options.logLevel)
  const adapter: RoomAdapter = options.adapter ?? createMemoryAdapter()
  const allowedOrigins = options.allowedOrigins === undefined ? undefined : new Set(options.allowedOrigins)
  const bounds = { maxNestingDepth: limits.maxNestingDepth, maxMessageBytes: limits.maxMessageBytes }
  const rates = {
    messagesPerSec: limits.rateLimitPerSec,
    messageBurst: limits.rateLimitBurst,
    bytesPerSec: limits.rateLimitBytesPerSec,
    byteBurst: limits.rateLimitBytesBurst,
    windowMs: limits.rateLimitWindowMs,
  }
  const authenticate = createAuthenticator({
    authenticate: options.authenticate,
    auth: options.auth ?? {},
    timeoutMs: limits.authTimeoutMs,
  })
  if (options.auth?.required === true && options.authenticate === undefined) {
    if (options.auth.jwtSecret === undefined && options.auth.jwksUrl === undefined) {
      throw new RoomServerError(
        'invalid_config',
        'auth.required needs auth.jwtSecret, auth.jwksUrl or authenticate',
      )
    }
  }

  const connections = new Map<string, Connection>()
  const cleanups = new Set<Promise<void>>()
  let closing = false
  let closePromise: Promise<void> | undefined
  let onDrained: (() => void) | undefined

  const metrics = createMetrics({
    connections: () => connections.size,
    rooms: () => local.size,
    store: adapter.health === undefined ? undefined : () => adapter.health!().up,
    adapterStats: adapter.stats === undefined ? undefined : () => adapter.stats!(),
  })
  const traffic = metrics.traffic
  const host: ConnectionHost = {
    log,
    writes: new WriteCoalescer(),
    maxBufferedBytes: limits.maxBufferedBytes,
    closeTimeoutMs: limits.closeTimeoutMs,
    sent(frames, bytes) {
      traffic.framesOut += frames
      traffic.bytesOut += bytes
    },
    slowConsumer(connection) {
      metrics.slowConsumers.inc()
      connection.log.warn({ buffered: connection.ws.bufferedAmount }, 'slow consumer closed')
      connection.close(4008, 'slow consumer: send buffer overflowed')
    },
  }
  const local = new LocalRooms({
    sent: host.sent,
    maxPendingBytes: limits.maxBufferedBytes,
    overflow: (connection) => host.slowConsumer(connection),
  })
  // Publishes accepted and not yet acked (asynchronous adapters only): shutdown's notice waits for them.
  const publishes = new InFlight()

  const node: AdapterNode = {
    nodeId: `n_${randomBytes(6).toString('base64url')}`,
    deliver: (room, message, deliverOptions) => local.deliver(room, message, deliverOptions),
    deliverDirect(target: ConnectionTarget, message: DirectEventMessage) {
      let frame: Buffer | undefined
      let sent = 0
      const sendTo = (connection: Connection | undefined) => {
        if (connection === undefined) return
        frame ??= textFrame(JSON.stringify(message))
        if (connection.sendFrame(frame)) sent++
      }
      if (target.kind === 'only') for (const id of target.ids) sendTo(connections.get(id))
      else {
        const except = target.kind === 'except' ? new Set(target.ids) : undefined
        for (const [id, connection] of connections)
          if (except === undefined || !except.has(id)) sendTo(connection)
      }
      if (sent > 0) host.sent(sent, sent * framePayload(frame!).length)
      return sent
    },
  }
  const attached = Promise.resolve(
    adapter.attach(node, {
      historySize: limits.historySize,
      historyMaxBytes: limits.historyMaxBytes,
      idleTimeoutMs: limits.idleTimeoutMs,
      now,
    }),
  )

  function runHook(connection: Connection | undefined, name: string, run: () => unknown): void {
    const fail = (err: unknown) => (connection?.log ?? log).error({ err, hook: name }, 'hook failed')
    try {
      const result = run()
      if (isThenable(result)) Promise.resolve(result).catch(fail)
    } catch (err) {
      fail(err)
    }
  }

  // What onPublish returns goes to every member and into history: it obeys the client's bounds. A hook
  // that returns too much is a bug of the app's, answered `internal` at the frame boundary (issue 12).
  const onPublish = options.onPublish
  const hooks: RoomServerOptions =
    onPublish === undefined
      ? options
      : {
          ...options,
          async onPublish(context: PublishContext) {
            const decision = await onPublish(context)
            if (decision !== null && typeof decision === 'object' && 'data' in decision) {
              checkPayload(decision.data, 'onPublish returned data', bounds)
            }
            return decision
          },
        }

  const inbound = createInbound({
    limits,
    metrics,
    now,
    log,
    handle: (connection, msg) => handleMessage(ctx, connection, msg),
  })

  const ctx: HandlerContext = {
    limits,
    protocol,
    adapter,
    local,
    hooks,
    now,
    sendError: inbound.replyError,
    isOpen: (connection) => connections.get(connection.id) === connection && !connection.closing,
    notify: runHook,
    replayBudget: new ReplayBudget(limits.replayBytesPerSec, limits.replayBurstBytes),
    publishes,
    isClosing: () => closing,
    slowConsumer: (connection) => host.slowConsumer(connection),
    replayCounters: {
      sent: (bytes) => metrics.replayedBytes.inc(bytes),
      refused: () => metrics.replayRefusals.inc(),
    },
  }

  // One set of socket listeners for every connection (`this` is the socket), rather than closures per socket.
  const bySocket = new WeakMap<WebSocket, Connection>()
  function onSocketMessage(this: WebSocket, raw: Buffer, isBinary: boolean): void {
    const connection = bySocket.get(this)
    if (connection !== undefined) inbound.onFrame(connection, raw, isBinary)
  }
  function onSocketActivity(this: WebSocket): void {
    const connection = bySocket.get(this)
    if (connection !== undefined) connection.lastSeenAt = now()
  }
  function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
    const connection = bySocket.get(this)
    if (connection === undefined) return
    bySocket.delete(this)
    // A close is a peer's frame too: nothing in its cleanup may reach the socket's event emitter as a throw.
    try {
      onClose(connection, code, reason.toString())
    } catch (err) {
      metrics.frameFailures.inc()
      connection.log.error({ err }, 'connection cleanup failed')
    }
  }

  const welcomeLimits = {
    maxMessageBytes: limits.maxMessageBytes,
    maxRoomsPerConnection: limits.maxRoomsPerConnection,
    maxPresenceBytes: limits.maxPresenceBytes,
    maxMembersPerRoom: limits.maxMembersPerRoom,
    historySize: limits.historySize,
    maxNestingDepth: limits.maxNestingDepth,
  }

  function accept(
    ws: WebSocket,
    request: IncomingMessage,
    auth: AuthOutcome & { ok: true },
    address: string | undefined,
  ): void {
    const id = newConnectionId()
    const connection = new Connection({
      id,
      user: auth.user,
      data: auth.data,
      remoteAddress: address,
      ws,
      host,
      now: now(),
      rates,
    })
    connections.set(id, connection)
    // Shared listeners that find their connection by socket: no closures per connection.
    bySocket.set(ws, connection)
    ws.on('message', onSocketMessage)
    ws.on('pong', onSocketActivity)
    ws.on('ping', onSocketActivity)
    ws.on('close', onSocketClose)
    if (connection.logs('info')) {
      connection.log.info({ url: redactUrl(request.url), user: auth.user }, 'connected')
    }
    const welcome = {
      type: 'welcome' as const,
      id,
      protocol: PROTOCOL_VERSION,
      heartbeat: { interval: limits.pingIntervalMs, timeout: limits.pongTimeoutMs },
      limits: welcomeLimits,
    }
    connection.send(auth.user === undefined ? welcome : { ...welcome, user: auth.user })
    track(connection, async () => adapter.addConnection(id, auth.user))
    const onConnect = options.onConnect
    if (onConnect !== undefined) runHook(connection, 'onConnect', () => onConnect(connection.info()))
  }

  function track(connection: Connection | undefined, work: () => Promise<unknown>): void {
    const promise = work()
      .then(() => undefined)
      .catch((err: unknown) => (connection?.log ?? log).error({ err }, 'adapter call failed'))
      .finally(() => cleanups.delete(promise))
    cleanups.add(promise)
  }

  function onClose(connection: Connection, code: number, reason: string): void {
    connection.dispose()
    connections.delete(connection.id)
    metrics.closes.inc({ code: closeCodeLabel(code) })
    if (connection.logs('info')) connection.log.info({ code, reason }, 'disconnected')
    const joined: string[] = []
    for (const [room, state] of connection.memberships()) {
      local.remove(room, connection)
      // A pending join finishes on its own and leaves then (see join in message-handlers).
      if (state === 'joined') joined.push(room)
    }
    connection.clearMemberships()
    track(connection, async () => {
      for (const room of joined) await adapter.leave(room, connection.id)
      // A join that outlived the socket leaves its room itself; the connection goes from the adapter after.
      await joinInFlight(connection)
      await adapter.removeConnection(connection.id)
    })
    const onDisconnect = options.onDisconnect
    if (onDisconnect !== undefined) {
      runHook(connection, 'onDisconnect', () => onDisconnect(connection.info(), { code, reason }))
    }
    if (connections.size === 0) onDrained?.()
  }

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: options.perMessageDeflate === true ? PER_MESSAGE_DEFLATE : false,
    // Select roomwire.v1 when offered. When only unknown subprotocols are offered, select one anyway so the
    // handshake completes and the client can read the 4400 close (a missing answer fails it as 1006).
    handleProtocols: (offered: Set<string>) =>
      offered.has(SUBPROTOCOL) ? SUBPROTOCOL : (offered.values().next().value ?? false),
  })

  const admission = createAdmission({
    wss,
    limits,
    allowedOrigins,
    trustedProxies: options.trustedProxies ?? [],
    authenticate,
    metrics,
    log,
    now,
    isAccepting: () => !closing,
    openConnections: () => connections.size,
    accepted: accept,
  })
  const handleUpgrade = admission.handleUpgrade

  function pathOf(request: IncomingMessage): string {
    const url = request.url ?? '/'
    const q = url.indexOf('?')
    return q === -1 ? url : url.slice(0, q)
  }

  const handleRequest = createHttpHandler({
    registry: metrics.registry,
    adminToken: options.adminToken,
    staticDir: options.staticDir,
    maxBodyBytes: limits.maxMessageBytes,
    maxNestingDepth: limits.maxNestingDepth,
    log,
    health: () => {
      const store = adapter.health?.()
      const status = closing ? 'closing' : store?.up === false ? 'degraded' : 'ok'
      const stats = adapter.stats?.()
      const body: Record<string, unknown> = { status, connections: connections.size, rooms: local.size }
      // Empty rooms kept for resume cost memory too (issue 12: 72,500 of them while this said rooms: 0).
      if (stats !== undefined) {
        body.idleRooms = stats.idleRooms
        body.historyBytes = stats.historyBytes
      }
      if (store?.up === false) body.reason = store.reason
      return body
    },
    broadcast: (room, event, data) => api.broadcast(room, event, data),
    roomInfo: (room) => api.roomInfo(room),
  })

  let httpServer = options.server
  const ownServer = options.port !== undefined
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(request) === path) return handleUpgrade(request, socket, head)
    // Leave other paths to the application's own upgrade handlers, if it has any.
    if (ownServer || (httpServer?.listenerCount('upgrade') ?? 0) <= 1)
      abortHandshake(socket, 404, 'Not Found')
  }
  let ready: Promise<void>
  if (ownServer) {
    // Node enforces headersTimeout only when it checks, every connectionsCheckingInterval (30 s by default):
    // a slow handshake would live up to 40 s instead of the 10 s below.
    const server = createServer({ connectionsCheckingInterval: 1_000 }, (request, response) => {
      void handleRequest(request, response).then((handled) => {
        if (handled || response.headersSent) return
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        response.end('not found\n')
      })
    })
    // Node's 60 s default lets slow-header clients hold sockets far too long (slowloris).
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000
    server.on('upgrade', onUpgrade)
    server.on('clientError', (_err, socket) => socket.destroy())
    httpServer = server
    ready = new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port, options.host ?? '0.0.0.0', () => {
        server.off('error', reject)
        resolve()
      })
    })
  } else {
    httpServer?.on('upgrade', onUpgrade)
    ready = Promise.resolve()
  }
  ready = Promise.all([ready, attached]).then(() => undefined)
  // Nobody may await `ready`; a failed listen must not become an unhandled rejection as well as a log line.
  ready.catch((err: unknown) => log.error({ err }, 'server failed to start'))

  const stopHeartbeat = startHeartbeat({
    pingIntervalMs: limits.pingIntervalMs,
    pongTimeoutMs: limits.pongTimeoutMs,
    now,
    connections: () => connections.values(),
    onTimeout(connection) {
      connection.log.info('heartbeat timed out')
      connection.terminate()
    },
  })

  function serverDirect(event: string, data: unknown): DirectEventMessage {
    checkEvent(event)
    checkPayload(data, 'data', bounds)
    return { type: 'direct', event, data, from: 'server', ts: now() }
  }

  const stopZlibSweep =
    options.perMessageDeflate === true
      ? startZlibSweep(limits.pingIntervalMs, () => connections.values())
      : () => {}

  async function shutdown(timeoutMs: number): Promise<void> {
    closing = true
    const deadline = now() + timeoutMs
    stopHeartbeat()
    stopZlibSweep()
    // Stop accepting now; 'close' fires once the last socket is gone (closeAllConnections below).
    let httpClosed: Promise<void> = Promise.resolve()
    if (httpServer !== undefined) {
      const server = httpServer
      if (ownServer) httpClosed = new Promise<void>((resolve) => server.close(() => resolve()))
      else server.off('upgrade', onUpgrade)
    }
    // Publishes are refused from here on (closing); those an asynchronous adapter still works on are
    // acked first, so that nothing is acked after the notice (PROTOCOL.md, `system`).
    if (publishes.count > 0) await publishes.idle(Math.max(0, deadline - now()))
    const open = [...connections.values()]
    for (const connection of open)
      connection.send({ type: 'system', message: 'server shutting down', code: 'shutdown' })
    const windowMs = Math.min(limits.shutdownSpreadMs, timeoutMs / 2)
    const timers = open.map((connection, i) => {
      const timer = setTimeout(
        () => connection.close(1001, 'server shutting down', Math.max(1, deadline - now())),
        open.length > 1 ? (i * windowMs) / (open.length - 1) : 0,
      )
      timer.unref()
      return timer
    })
    if (connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        timer.unref()
        onDrained = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    for (const timer of timers) clearTimeout(timer)
    for (const connection of connections.values()) connection.terminate()
    // terminate() emits 'close' on a later tick; wait for the last cleanups to be queued and run.
    while (connections.size > 0) await new Promise((resolve) => setImmediate(resolve))
    while (cleanups.size > 0) await Promise.allSettled([...cleanups])
    await attached.catch(() => undefined)
    // Last, once nothing can be published or acknowledged any more: a memory adapter with `persist`
    // saves its rooms here, and a restart resumes from exactly what was acknowledged.
    try {
      await adapter.close()
    } finally {
      wss.close()
      if (ownServer) {
        httpServer?.closeAllConnections()
        await httpClosed
      }
      metrics.registry.clear()
    }
  }

  const api: RoomServer = {
    ready,
    get httpServer() {
      return httpServer
    },
    metrics: metrics.registry,
    address() {
      const address = httpServer?.address()
      return address !== null && typeof address === 'object' ? address : null
    },
    handleUpgrade,
    handleRequest,
    async broadcast(room, event, data) {
      checkRoom(room)
      checkEvent(event)
      // Bounded before the application's schema sees it, and again after (a transform may change it).
      checkPayload(data, 'data', bounds)
      if (protocol !== undefined) {
        const result = protocol.validateEvent(event, data)
        if (!result.success) throw new RoomServerError('invalid_argument', result.error.message)
        data = result.data
        checkPayload(data, 'data', bounds)
      }
      if (closing) throw new RoomServerError('closed', 'the server is shutting down: broadcast refused')
      publishes.begin()
      try {
        const { seq } = await adapter.publish(room, { event, data, from: 'server', ts: now() })
        return { seq }
      } finally {
        publishes.end()
      }
    },
    async broadcastAll(event, data) {
      await adapter.broadcastDirect({ kind: 'all' }, serverDirect(event, data))
    },
    async broadcastTo(ids, event, data) {
      checkConnectionIds(ids)
      await adapter.broadcastDirect({ kind: 'only', ids }, serverDirect(event, data))
    },
    async broadcastExcept(ids, event, data) {
      checkConnectionIds(ids)
      await adapter.broadcastDirect({ kind: 'except', ids }, serverDirect(event, data))
    },
    async sendDirect(connectionId, event, data) {
      checkConnectionId(connectionId, 'connectionId')
      return adapter.sendDirect(connectionId, serverDirect(event, data))
    },
    async roomInfo(room) {
      // No room can have an invalid name: no need to ask the adapter (or hand it a caller's odd string).
      if (!RoomNameSchema.safeParse(room).success) return null
      const info = await adapter.roomInfo(room)
      if (info === null) return null
      return {
        room,
        memberCount: info.members.length,
        members: info.members,
        seq: info.seq,
        epoch: info.epoch,
      }
    },
    async rooms() {
      return adapter.rooms()
    },
    connections: () => [...connections.values()].map((connection) => connection.info()),
    disconnect(connectionId, code = 1000, reason = '') {
      const connection = connections.get(connectionId)
      if (connection === undefined) return false
      connection.close(code, reason)
      return true
    },
    close(closeOptions) {
      closePromise ??= shutdown(closeOptions?.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS)
      return closePromise
    },
  }
  return api
}
