import type {
  ClientMessage,
  DirectMessage,
  ErrorCode,
  JoinedMessage,
  JoinMessage,
  LeaveMessage,
  Member,
  PresenceMessage,
  Protocol,
  PublishMessage,
  Ref,
} from '@roomwire/protocol'
import type { PublishInput, RoomAdapter } from './adapter'
import type { Connection } from './connection'
import { RoomServerError } from './errors'
import type { LocalRooms } from './local-rooms'
import type { AuthorizeRequest, ResolvedLimits, RoomServerOptions } from './options'

/** What the message handlers need from their server. */
export interface HandlerContext {
  readonly limits: ResolvedLimits
  readonly protocol: Protocol | undefined
  readonly adapter: RoomAdapter
  readonly local: LocalRooms
  readonly hooks: RoomServerOptions
  readonly now: () => number
  sendError(connection: Connection, code: ErrorCode, message: string, ref?: Ref, room?: string): void
  /** Whether the connection is still open and registered (a join may outlive its socket). */
  isOpen(connection: Connection): boolean
  /** Run an app notification hook (onJoin, onLeave): a throw or rejection is logged, never surfaced. */
  notify(connection: Connection, hook: string, run: () => unknown): void
}

/** Thrown inside a handler to answer its message with an `error` frame. */
class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
  ) {}
}

/** Whether `error` is a refusal, and the error frame to send for it. */
export function asRefusal(error: unknown): { code: ErrorCode; message: string } | undefined {
  // An adapter whose store is unreachable says so in words a client can act on (retry later).
  if (error instanceof RoomServerError && error.code === 'unavailable') {
    return { code: 'unavailable', message: error.message }
  }
  return error instanceof Refusal ? error : undefined
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '')
}

async function authorized(ctx: HandlerContext, request: AuthorizeRequest): Promise<void> {
  if (ctx.hooks.authorize === undefined) return
  if ((await ctx.hooks.authorize(request)) !== true) {
    const what =
      request.action === 'direct' ? `direct to ${request.to}` : `${request.action} in room ${request.room}`
    throw new Refusal('forbidden', `${what} is not allowed for this connection`)
  }
}

function checkPresence(ctx: HandlerContext, state: unknown, field: string): unknown {
  if (ctx.protocol !== undefined) {
    const result = ctx.protocol.validatePresence(state)
    if (!result.success) throw new Refusal('invalid_event', result.error.message)
    state = result.data
  }
  const bytes = jsonBytes(state)
  if (bytes > ctx.limits.maxPresenceBytes) {
    throw new Refusal(
      'too_large',
      `${field}: presence state is ${bytes} bytes, over the limit of ${ctx.limits.maxPresenceBytes}`,
    )
  }
  return state
}

function requireJoined(connection: Connection, room: string): void {
  if (connection.membership(room) !== 'joined') {
    throw new Refusal('not_joined', `room: this connection has not joined "${room}"`)
  }
}

async function join(ctx: HandlerContext, connection: Connection, msg: JoinMessage): Promise<void> {
  const { room } = msg
  const already = connection.membership(room) === 'joined'
  if (!already && connection.roomCount >= ctx.limits.maxRoomsPerConnection) {
    throw new Refusal(
      'too_many_rooms',
      `room: this connection is already in ${connection.roomCount} rooms, the limit`,
    )
  }
  const presence = msg.presence === undefined ? undefined : checkPresence(ctx, msg.presence, 'presence')
  await authorized(ctx, {
    action: 'join',
    connection: connection.info(),
    user: connection.user,
    connectionId: connection.id,
    room,
  })
  if (!ctx.isOpen(connection)) return
  const member: Member = { id: connection.id }
  if (connection.user !== undefined) member.user = connection.user
  if (presence !== undefined) member.presence = presence
  const replay: { since?: number; epoch?: string; history?: number } = {}
  if (msg.since !== undefined) replay.since = msg.since
  if (msg.epoch !== undefined) replay.epoch = msg.epoch
  if (msg.history !== undefined) replay.history = Math.min(msg.history, ctx.limits.historySize)

  if (!already) {
    connection.setMembership(room, 'pending')
    ctx.local.addPending(room, connection)
  }
  let result: Awaited<ReturnType<RoomAdapter['join']>>
  try {
    result = await ctx.adapter.join(room, member, replay, ctx.limits.maxMembersPerRoom)
  } catch (cause) {
    if (!already) abandon(ctx, connection, room)
    throw cause
  }
  if (!result.ok) {
    if (!already) abandon(ctx, connection, room)
    throw new Refusal('room_full', `room: "${room}" has ${ctx.limits.maxMembersPerRoom} members, the limit`)
  }
  if (!ctx.isOpen(connection)) {
    // The socket closed while the adapter worked: its cleanup skipped this pending room, so leave here.
    ctx.local.remove(room, connection)
    await ctx.adapter.leave(room, connection.id)
    return
  }
  const joined: JoinedMessage = {
    type: 'joined',
    room,
    seq: result.seq,
    epoch: result.epoch,
    members: result.members,
  }
  if (result.recovered !== undefined) joined.recovered = result.recovered
  if (result.replay.length > 0) joined.replay = result.replay.length
  if (msg.ref !== undefined) joined.ref = msg.ref
  // `joined` first, then the replay (PROTOCOL.md, "Joining"): the client learns the epoch before seq 1.
  connection.send(joined)
  for (const frame of result.replay) connection.sendText(frame)
  if (already) return
  connection.setMembership(room, 'joined')
  ctx.local.activate(room, connection, result.seq, result.members)
  const onJoin = ctx.hooks.onJoin
  if (onJoin !== undefined) ctx.notify(connection, 'onJoin', () => onJoin(connection.info(), room))
}

function abandon(ctx: HandlerContext, connection: Connection, room: string): void {
  connection.deleteMembership(room)
  ctx.local.remove(room, connection)
}

async function leave(ctx: HandlerContext, connection: Connection, msg: LeaveMessage): Promise<void> {
  requireJoined(connection, msg.room)
  connection.deleteMembership(msg.room)
  ctx.local.remove(msg.room, connection)
  await ctx.adapter.leave(msg.room, connection.id)
  connection.send(
    msg.ref === undefined ? { type: 'left', room: msg.room } : { type: 'left', room: msg.room, ref: msg.ref },
  )
  const onLeave = ctx.hooks.onLeave
  if (onLeave !== undefined) ctx.notify(connection, 'onLeave', () => onLeave(connection.info(), msg.room))
}

async function publish(ctx: HandlerContext, connection: Connection, msg: PublishMessage): Promise<void> {
  requireJoined(connection, msg.room)
  let data: unknown = msg.data
  if (ctx.protocol !== undefined) {
    const result = ctx.protocol.validateEvent(msg.event, data)
    if (!result.success) throw new Refusal('invalid_event', result.error.message)
    data = result.data
  }
  if (ctx.hooks.authorize !== undefined)
    await authorized(ctx, {
      action: 'publish',
      connection: connection.info(),
      user: connection.user,
      connectionId: connection.id,
      room: msg.room,
      event: msg.event,
    })
  if (ctx.hooks.onPublish !== undefined) {
    const decision = await ctx.hooks.onPublish({
      connection: connection.info(),
      room: msg.room,
      event: msg.event,
      data,
      id: msg.id,
    })
    if (decision !== undefined && decision !== null) {
      if ('error' in decision)
        throw new Refusal(decision.error, decision.message ?? 'the server refused this publish')
      if ('data' in decision) data = decision.data
    }
  }
  // A hook may have awaited while the member left or the socket closed: publish nothing then.
  requireJoined(connection, msg.room)
  const input: PublishInput = { event: msg.event, data, from: connection.id, ts: ctx.now() }
  if (msg.id !== undefined) input.id = msg.id
  if (msg.echo !== true) input.skip = connection.id
  // The memory adapter answers synchronously: no await then, one microtask hop less per publish.
  const pending = ctx.adapter.publish(msg.room, input)
  const result = pending instanceof Promise ? await pending : pending
  if (msg.ref !== undefined) connection.sendAck(msg.ref, result.seq)
}

async function presence(ctx: HandlerContext, connection: Connection, msg: PresenceMessage): Promise<void> {
  requireJoined(connection, msg.room)
  const state = checkPresence(ctx, msg.state, 'state')
  await authorized(ctx, {
    action: 'presence',
    connection: connection.info(),
    user: connection.user,
    connectionId: connection.id,
    room: msg.room,
  })
  requireJoined(connection, msg.room)
  await ctx.adapter.setPresence(msg.room, connection.id, state)
  if (msg.ref !== undefined) connection.sendAck(msg.ref)
}

async function direct(ctx: HandlerContext, connection: Connection, msg: DirectMessage): Promise<void> {
  let data: unknown = msg.data
  if (ctx.protocol !== undefined) {
    const result = ctx.protocol.validateDirect(msg.event, data)
    if (!result.success) throw new Refusal('invalid_event', result.error.message)
    data = result.data
  }
  await authorized(ctx, {
    action: 'direct',
    connection: connection.info(),
    user: connection.user,
    connectionId: connection.id,
    to: msg.to,
    event: msg.event,
  })
  const delivered = await ctx.adapter.sendDirect(msg.to, {
    type: 'direct',
    event: msg.event,
    data,
    from: connection.id,
    ts: ctx.now(),
  })
  if (!delivered) throw new Refusal('not_found', `to: no connection "${msg.to}" is connected`)
  if (msg.ref !== undefined) connection.sendAck(msg.ref)
}

/** Handle one decoded client message; refusals are thrown as {@link asRefusal} values. */
export async function handleMessage(
  ctx: HandlerContext,
  connection: Connection,
  msg: ClientMessage,
): Promise<void> {
  switch (msg.type) {
    case 'join':
      return join(ctx, connection, msg)
    case 'leave':
      return leave(ctx, connection, msg)
    case 'publish':
      return publish(ctx, connection, msg)
    case 'presence':
      return presence(ctx, connection, msg)
    case 'direct':
      return direct(ctx, connection, msg)
    case 'ping': {
      const pong: { type: 'pong'; t?: number; ref?: Ref } = { type: 'pong' }
      if (msg.t !== undefined) pong.t = msg.t
      if (msg.ref !== undefined) pong.ref = msg.ref
      connection.send(pong)
      return
    }
  }
}
