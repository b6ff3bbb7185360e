import {
  type DirectEventMessage,
  type DirectInput,
  type DirectName,
  type EventInput,
  type EventName,
  type Member,
  type PresenceState,
  type Protocol,
  RoomNameSchema,
} from '@roomwire/protocol'
import type { RoomAdapter } from './adapter'
import type { Clock } from './clock'
import type { ConnectionRegistry } from './connection-registry'
import { RoomServerError } from './errors'
import type { AnyProtocol, ConnectionInfo } from './hooks'
import type { InFlight } from './in-flight'
import type { ResolvedLimits } from './limits'
import { checkConnectionId, checkConnectionIds, checkEvent, checkPayload, checkRoom } from './server-input'

/** A room member as the server reports it: its presence typed by the protocol. */
export type MemberInfo<P extends Protocol = AnyProtocol> = Omit<Member, 'presence'> & {
  presence?: PresenceState<P>
}

/** A room's state across the cluster, from {@link RoomServer.roomInfo}. */
export interface RoomInfo<P extends Protocol = AnyProtocol> {
  room: string
  memberCount: number
  members: MemberInfo<P>[]
  seq: number
  epoch: string
}

/**
 * What the application calls on a running server to reach its rooms and connections. With a protocol,
 * event names and payloads are typed from it (room events for `broadcast`, direct events for the rest).
 */
export interface ServerApi<P extends Protocol = AnyProtocol> {
  /** Publish a server message to a room: it gets a `seq` like any publish, `from: "server"`. */
  broadcast<K extends EventName<P>>(room: string, event: K, data: EventInput<P, K>): Promise<{ seq: number }>
  /** Send a `direct` frame (`from: "server"`) to every connection. */
  broadcastAll<K extends DirectName<P>>(event: K, data: DirectInput<P, K>): Promise<void>
  /** Send a `direct` frame to these connections. */
  broadcastTo<K extends DirectName<P>>(
    connectionIds: readonly string[],
    event: K,
    data: DirectInput<P, K>,
  ): Promise<void>
  /** Send a `direct` frame to every connection but these. */
  broadcastExcept<K extends DirectName<P>>(
    connectionIds: readonly string[],
    event: K,
    data: DirectInput<P, K>,
  ): Promise<void>
  /** Send a `direct` frame to one connection on any node; false when it is not connected. */
  sendDirect<K extends DirectName<P>>(
    connectionId: string,
    event: K,
    data: DirectInput<P, K>,
  ): Promise<boolean>
  /** A room's state, or null when none is held. */
  roomInfo(room: string): Promise<RoomInfo<P> | null>
  /** Rooms that have members. */
  rooms(): Promise<string[]>
  /** Connections open on this node. */
  connections(): ConnectionInfo[]
  /** Close one connection of this node; false when it is not here. */
  disconnect(connectionId: string, code?: number, reason?: string): boolean
}

/** What the server API reaches. */
export interface ServerApiDeps {
  readonly limits: ResolvedLimits
  readonly protocol: Protocol | undefined
  readonly adapter: RoomAdapter
  readonly registry: ConnectionRegistry
  readonly clock: Clock
  readonly publishes: InFlight
  /** False once the server started shutting down: broadcasts are refused with `closed`. */
  isAccepting(): boolean
}

/**
 * The server API. What the application hands in obeys the bounds of what a client sends, and the
 * protocol's schemas; a bad argument throws `RoomServerError('invalid_argument')` (the caller's bug).
 */
export function createServerApi(deps: ServerApiDeps): ServerApi {
  const { limits, protocol, adapter, registry, clock, publishes } = deps

  function serverDirect(event: string, data: unknown): DirectEventMessage {
    checkEvent(event)
    checkPayload(data, 'data', limits)
    return { type: 'direct', event, data, from: 'server', ts: clock.now() }
  }

  return {
    async broadcast(room, event, data) {
      checkRoom(room)
      checkEvent(event)
      // Bounded before the application's schema sees it, and again after (a transform may change it).
      checkPayload(data, 'data', limits)
      if (protocol !== undefined) {
        const result = protocol.validateEvent(event, data)
        if (!result.success) throw new RoomServerError('invalid_argument', result.error.message)
        data = result.data
        checkPayload(data, 'data', limits)
      }
      if (!deps.isAccepting())
        throw new RoomServerError('closed', 'the server is shutting down: broadcast refused')
      publishes.begin()
      try {
        const { seq } = await adapter.publish(room, { event, data, from: 'server', ts: clock.now() })
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
    connections: () => [...registry.values()].map((connection) => connection.info()),
    disconnect(connectionId, code = 1000, reason = '') {
      const connection = registry.get(connectionId)
      if (connection === undefined) return false
      connection.close(code, reason)
      return true
    },
  }
}
