import { randomBytes } from 'node:crypto'
import { SUBPROTOCOL } from '@roomwire/protocol'
import type { Logger } from 'pino'
import { WebSocketServer } from 'ws'
import type { AdapterNode, RoomAdapter } from './adapter'
import { createAuthenticator } from './auth'
import { type Clock, systemClock } from './clock'
import { PER_MESSAGE_DEFLATE, startZlibSweep } from './compression'
import type { Connection, ConnectionHost } from './connection'
import type { ConnectionRegistry } from './connection-registry'
import { RoomServerError } from './errors'
import { WriteCoalescer } from './frames'
import { startHeartbeat } from './heartbeat'
import type { HistoryStore } from './history-store'
import { storeHealth } from './http-routes'
import type { ResolvedLimits } from './limits'
import type { LocalRooms } from './local-rooms'
import { createMetrics, type MetricsSources, type ServerMetrics } from './metrics'
import type { RoomServerOptions } from './options'
import { ReplayBudget } from './replay-budget'

// The parts createRoomServer (room-server.ts) composes, each built from the options and the parts before it.

/** The server's metrics: the gauges read the live counts, the store's health and the adapter's stats. */
export function metricsOf(
  options: RoomServerOptions,
  adapter: RoomAdapter,
  counts: Pick<MetricsSources, 'connections' | 'rooms'>,
): ServerMetrics {
  return createMetrics({
    ...counts,
    store:
      adapter.health === undefined && options.historyStore === undefined
        ? undefined
        : () => storeHealth(adapter, options.historyStore).up,
    adapterStats: adapter.stats === undefined ? undefined : () => adapter.stats!(),
  })
}

/**
 * Attach the adapter to this node. The AdapterNode is the adapter seam (docs/decisions/001): the one way
 * back down from the adapter into this node's rooms and sockets.
 */
export function attachNode(
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
export function clockOf(options: RoomServerOptions): Clock {
  const clock = options.clock ?? systemClock
  return options.now === undefined ? clock : { ...clock, now: options.now }
}

/** The parts of the handlers' context that come straight from the options and the metrics. */
export function handlerParts(options: RoomServerOptions, limits: ResolvedLimits, metrics: ServerMetrics) {
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
export function connectionHost(
  log: Logger,
  clock: Clock,
  limits: ResolvedLimits,
  metrics: ServerMetrics,
): ConnectionHost {
  return {
    log,
    clock,
    epoch: clock.now(),
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
export function webSocketServer(limits: ResolvedLimits, deflate: boolean): WebSocketServer {
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
export function startTimers(
  limits: ResolvedLimits,
  clock: Clock,
  registry: ConnectionRegistry,
  deflate: boolean,
) {
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
export function authenticatorOf(options: RoomServerOptions, timeoutMs: number, clock: Clock) {
  if (options.auth?.required === true && options.authenticate === undefined) {
    if (options.auth.jwtSecret === undefined && options.auth.jwksUrl === undefined) {
      throw new RoomServerError(
        'invalid_config',
        'auth.required needs auth.jwtSecret, auth.jwksUrl or authenticate',
      )
    }
  }
  return createAuthenticator({
    authenticate: options.authenticate,
    auth: options.auth ?? {},
    timeoutMs,
    clock,
  })
}
