import type {
  ClientMessage,
  DirectMessage,
  ErrorCode,
  JoinMessage,
  LeaveMessage,
  Member,
  PresenceMessage,
  Protocol,
  PublishMessage,
  Ref,
} from '@roomwire/protocol'
import type { JoinResult, PublishInput, RoomAdapter } from './adapter'
import type { Connection } from './connection'
import { RoomServerError } from './errors'
import type { InFlight } from './in-flight'
import { type JoinedHead, joinFrames, membersPageBytes } from './join-frames'
import type { LocalRooms } from './local-rooms'
import type { AuthorizeRequest, ResolvedLimits, RoomServerOptions } from './options'
import { writePaced } from './paced-writer'
import type { ReplayBudget } from './replay-budget'

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
  /** Each connection's budget of bytes its joins may send. */
  readonly replayBudget: ReplayBudget
  /** Publishes waiting for an asynchronous adapter: shutdown writes its notice after their acks. */
  readonly publishes: InFlight
  /** Whether the server started shutting down: publishes are refused with `unavailable` from then on. */
  isClosing(): boolean
  /** Close a connection as a slow consumer (4008), counted and logged. */
  slowConsumer(connection: Connection): void
  /** Count the bytes a join's frames took, and joins refused by the replay budget. */
  readonly replayCounters: { sent(bytes: number): void; refused(): void }
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

const settledJoins = new WeakMap<Connection, Promise<void>>()
const ignore = () => {}

/**
 * The join this connection has in flight, as a promise that settles (never rejects) once the join is done
 * with the adapter, its cleanup included: a connection that closed must not be removed from the adapter
 * before a join that outlived its socket left the room again.
 */
export function joinInFlight(connection: Connection): Promise<void> | undefined {
  return settledJoins.get(connection)
}

async function join(ctx: HandlerContext, connection: Connection, msg: JoinMessage): Promise<void> {
  const work = joinRoom(ctx, connection, msg)
  const settled = work.then(ignore, ignore)
  settledJoins.set(connection, settled)
  try {
    await work
  } finally {
    if (settledJoins.get(connection) === settled) settledJoins.delete(connection)
  }
}

async function joinRoom(ctx: HandlerContext, connection: Connection, msg: JoinMessage): Promise<void> {
  const { room } = msg
  const already = connection.membership(room) === 'joined'
  if (!already && connection.roomCount >= ctx.limits.maxRoomsPerConnection) {
    throw new Refusal(
      'too_many_rooms',
      `room: this connection is already in ${connection.roomCount} rooms, the limit`,
    )
  }
  const presence = msg.presence === undefined ? undefined : checkPresence(ctx, msg.presence, 'presence')
  if (!ctx.replayBudget.allows(connection, ctx.now())) {
    ctx.replayCounters.refused()
    throw new Refusal(
      'rate_limited',
      `join: this connection's joins sent over ${ctx.limits.replayBytesPerSec} bytes a second of members and history; join again shortly`,
    )
  }
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
  let result: JoinResult
  try {
    result = await ctx.adapter.join(room, member, replay, ctx.limits.maxMembersPerRoom)
  } catch (cause) {
    // It may have added the member before it failed (a Redis reply lost to a timeout): no ghost member.
    if (!already) await undoJoin(ctx, connection, room)
    throw cause
  }
  if (!result.ok) {
    if (!already) abandon(ctx, connection, room)
    throw new Refusal('room_full', `room: "${room}" has ${ctx.limits.maxMembersPerRoom} members, the limit`)
  }
  // The adapter holds the member now: every way out but becoming a member leaves the room again, so nobody
  // sees a member_joined without its member_left.
  let isMember = already
  try {
    if (!ctx.isOpen(connection)) return
    if (!(await writeJoin(ctx, connection, msg, result))) return
    if (!already) {
      if (!ctx.local.activate(room, connection, result)) return
      connection.setMembership(room, 'joined')
      isMember = true
    }
  } finally {
    if (!isMember) await undoJoin(ctx, connection, room)
  }
  if (already) return
  const onJoin = ctx.hooks.onJoin
  if (onJoin !== undefined) ctx.notify(connection, 'onJoin', () => onJoin(connection.info(), room))
}

/**
 * Write a join's frames: `joined` first, then the member pages, then the replay (PROTOCOL.md, "Joining": the
 * client learns the epoch before seq 1), as the socket drains. False when the connection closed or
 * stalled meanwhile (then closed as a slow consumer: it resumes with `since`).
 */
async function writeJoin(
  ctx: HandlerContext,
  connection: Connection,
  msg: JoinMessage,
  result: Extract<JoinResult, { ok: true }>,
): Promise<boolean> {
  const head: JoinedHead = { type: 'joined', room: msg.room, seq: result.seq, epoch: result.epoch }
  if (result.recovered !== undefined) head.recovered = result.recovered
  if (result.replay.length > 0) head.replay = result.replay.length
  if (msg.ref !== undefined) head.ref = msg.ref
  const maxBuffered = ctx.limits.maxBufferedBytes
  const frames = joinFrames(head, result.members, result.replay, membersPageBytes(maxBuffered))
  const outcome = await writePaced(connection, frames, {
    highWaterBytes: Math.floor(maxBuffered / 2),
    stallTimeoutMs: ctx.limits.joinDrainTimeoutMs,
  })
  ctx.replayBudget.charge(connection, outcome.bytes, ctx.now())
  ctx.replayCounters.sent(outcome.bytes)
  if (!outcome.ok && outcome.reason === 'stalled') ctx.slowConsumer(connection)
  return outcome.ok
}

function abandon(ctx: HandlerContext, connection: Connection, room: string): void {
  connection.deleteMembership(room)
  ctx.local.remove(room, connection)
}

/** Forget a join that did not finish, here and in the adapter (which does nothing if it is not a member). */
async function undoJoin(ctx: HandlerContext, connection: Connection, room: string): Promise<void> {
  abandon(ctx, connection, room)
  try {
    await ctx.adapter.leave(room, connection.id)
  } catch (err) {
    connection.log.error({ err, room }, 'could not remove the member of a failed join')
  }
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
  // Checked here, right before the adapter, not on arrival: nothing is acked after the shutdown notice.
  if (ctx.isClosing()) {
    throw new Refusal('unavailable', 'the server is shutting down: publish again on the next connection')
  }
  const input: PublishInput = { event: msg.event, data, from: connection.id, ts: ctx.now() }
  if (msg.id !== undefined) input.id = msg.id
  if (msg.echo !== true) input.skip = connection.id
  // The memory adapter answers synchronously: no await then, one microtask hop less per publish.
  const pending = ctx.adapter.publish(msg.room, input)
  if (!(pending instanceof Promise)) {
    if (msg.ref !== undefined) connection.sendAck(msg.ref, pending.seq)
    return
  }
  ctx.publishes.begin()
  try {
    const result = await pending
    if (msg.ref !== undefined) connection.sendAck(msg.ref, result.seq)
  } finally {
    ctx.publishes.end()
  }
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
