import type { ErrorCode, Ref } from '@roomwire/protocol'
import type { Registry } from 'prom-client'
import type { Clock } from './clock'
import type { Connection } from './connection'
import type { ResolvedLimits } from './limits'
import type { LocalRooms } from './local-rooms'
import type { RoomServerOptions } from './options'
import { createRequestMetrics } from './request-metrics'
import { checkHandlers, createRequestRunner, type RequestRunner } from './request-runner'
import type { RequestHandler } from './request-types'
import type { RoomServer } from './room-server'

/** What the request path takes from the server that composes it. */
export interface RequestParts {
  readonly limits: ResolvedLimits
  readonly clock: Clock
  readonly local: LocalRooms
  /** The server's Prometheus registry, for the per-request-name metrics. */
  readonly registry: Registry
  server(): RoomServer
  isAccepting(): boolean
  replyError(connection: Connection, code: ErrorCode, message: string, ref?: Ref, room?: string): void
}

/** The request path of a server with these options: its handlers, protocol, bounds and metrics. */
export function requestRunnerFor(options: RoomServerOptions, parts: RequestParts): RequestRunner<Connection> {
  checkHandlers(options.handlers, options.protocol)
  return createRequestRunner<Connection>({
    protocol: options.protocol,
    handlers: options.handlers as Record<string, RequestHandler> | undefined,
    limits: parts.limits,
    clock: parts.clock,
    metrics: createRequestMetrics(parts.registry, options.protocol, options.handlers),
    server: parts.server,
    isJoined: (connection, room) => parts.local.stateOf(room, connection) === 'joined',
    isClosing: () => !parts.isAccepting(),
    replyError: parts.replyError,
  })
}
