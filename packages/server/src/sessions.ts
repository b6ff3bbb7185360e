import type { IncomingMessage } from 'node:http'
import { PROTOCOL_VERSION } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type WebSocket from 'ws'
import type { RoomAdapter } from './adapter'
import { type AuthOutcome, redactUrl } from './auth'
import type { Connection } from './connection'
import type { ConnectionRegistry } from './connection-registry'
import { joinInFlight } from './joins-in-flight'
import type { ResolvedLimits } from './limits'
import type { LocalRooms } from './local-rooms'
import { closeCodeLabel, type ServerMetrics } from './metrics'
import type { RoomServerOptions } from './options'
import type { RequestRunner } from './request-runner'

/** Whether `value` is a promise-like (a hook may return one from another realm, or a thenable). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Run an app notification hook: a throw or a rejection is logged, never surfaced. */
export function runHook(
  log: Logger,
  connection: Connection | undefined,
  name: string,
  run: () => unknown,
): void {
  const fail = (err: unknown) => (connection?.log ?? log).error({ err, hook: name }, 'hook failed')
  try {
    const result = run()
    if (isThenable(result)) Promise.resolve(result).catch(fail)
  } catch (err) {
    fail(err)
  }
}

/**
 * Adapter calls made on a connection's behalf that nobody awaits (registering it, its leaves on close):
 * a failure is logged, and shutdown waits for all of them before it closes the adapter.
 */
export class Background {
  readonly #running = new Set<Promise<void>>()
  readonly #log: Logger

  constructor(log: Logger) {
    this.#log = log
  }

  track(connection: Connection | undefined, work: () => Promise<unknown>): void {
    const promise = work()
      .then(() => undefined)
      .catch((err: unknown) => (connection?.log ?? this.#log).error({ err }, 'adapter call failed'))
      .finally(() => this.#running.delete(promise))
    this.#running.add(promise)
  }

  /** Resolves once nothing is running, including work started while it waits. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
  }
}

/** What a connection's opening and closing touch. */
export interface SessionDeps {
  readonly limits: ResolvedLimits
  readonly adapter: RoomAdapter
  readonly local: LocalRooms
  readonly registry: ConnectionRegistry
  readonly metrics: ServerMetrics
  readonly log: Logger
  readonly background: Background
  readonly hooks: Pick<RoomServerOptions, 'onConnect' | 'onDisconnect'>
  /** The request path: a closed connection's handlers are told to stop (their signals fire). */
  readonly requests: Pick<RequestRunner<Connection>, 'closed'>
}

/**
 * A connection's first and last steps: `opened` registers it, sends `welcome`, tells the adapter and
 * `onConnect`; `closed` takes it out of every room (one `leaveAll`), tells the adapter and `onDisconnect`.
 */
export function createSessions(deps: SessionDeps) {
  const { limits, adapter, local, metrics, log, background, hooks } = deps
  const heartbeat = { interval: limits.pingIntervalMs, timeout: limits.pongTimeoutMs }
  const welcomeLimits = {
    maxMessageBytes: limits.maxMessageBytes,
    maxRoomsPerConnection: limits.maxRoomsPerConnection,
    maxPresenceBytes: limits.maxPresenceBytes,
    maxMembersPerRoom: limits.maxMembersPerRoom,
    historySize: limits.historySize,
    maxNestingDepth: limits.maxNestingDepth,
    maxRequestsInFlight: limits.maxRequestsInFlight,
  }

  function opened(
    ws: WebSocket,
    request: IncomingMessage,
    auth: AuthOutcome & { ok: true },
    address: string | undefined,
  ): void {
    const connection = deps.registry.add({ ws, user: auth.user, data: auth.data, remoteAddress: address })
    const { id } = connection
    if (connection.logs('info')) {
      connection.log.info({ url: redactUrl(request.url), user: auth.user }, 'connected')
    }
    const welcome = {
      type: 'welcome' as const,
      id,
      protocol: PROTOCOL_VERSION,
      heartbeat,
      limits: welcomeLimits,
    }
    connection.send(auth.user === undefined ? welcome : { ...welcome, user: auth.user })
    background.track(connection, async () => adapter.addConnection(id, auth.user))
    const onConnect = hooks.onConnect
    if (onConnect !== undefined) runHook(log, connection, 'onConnect', () => onConnect(connection.info()))
  }

  function cleanUp(connection: Connection, code: number, reason: string): void {
    deps.requests.closed(connection)
    metrics.closes.inc({ code: closeCodeLabel(code) })
    if (connection.logs('info')) connection.log.info({ code, reason }, 'disconnected')
    // Pending joins stop being live here and leave the adapter on their own (handlers/join.ts).
    const joined = local.leaveAll(connection)
    background.track(connection, async () => {
      for (const room of joined) await adapter.leave(room, connection.id)
      // A join that outlived the socket leaves its room itself; the connection goes from the adapter after.
      await joinInFlight(connection)
      await adapter.removeConnection(connection.id)
    })
    const onDisconnect = hooks.onDisconnect
    if (onDisconnect !== undefined) {
      runHook(log, connection, 'onDisconnect', () => onDisconnect(connection.info(), { code, reason }))
    }
  }

  function closed(connection: Connection, code: number, reason: string): void {
    // A close is a peer's frame too: nothing in its cleanup may reach the socket's event emitter as a throw.
    try {
      cleanUp(connection, code, reason)
    } catch (err) {
      metrics.frameFailures.inc()
      connection.log.error({ err }, 'connection cleanup failed')
    }
  }

  return { opened, closed }
}
