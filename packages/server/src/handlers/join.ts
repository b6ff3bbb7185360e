import type { JoinMessage, Member } from '@roomwire/protocol'
import type { JoinResult, ReplayRequest } from '../adapter'
import type { Connection } from '../connection'
import { type JoinedHead, joinFrames, membersPageBytes } from '../join-frames'
import { trackJoin } from '../joins-in-flight'
import { writePaced } from '../paced-writer'
import type { JoinTicket } from '../pending-join'
import type { Handler, HandlerContext } from './context'
import { authorize, validatePresence } from './guards'
import { OK, type Outcome, refused, storeRefusal } from './outcome'

/**
 * `join`: checked, authorized, then a ticket in the node's membership (what the room receives is held for
 * the joiner), the adapter's join, the `joined` frames with members and replay, and the ticket completed.
 * It is the connection's join in flight until done (`joins-in-flight.ts`: a close waits for it).
 */
export const join: Handler<JoinMessage> = (ctx, connection, msg) =>
  trackJoin(connection, joinRoom(ctx, connection, msg))

async function joinRoom(ctx: HandlerContext, connection: Connection, msg: JoinMessage): Promise<Outcome> {
  const { room } = msg
  const already = ctx.local.stateOf(room, connection) === 'joined'
  const rooms = ctx.local.roomCount(connection)
  if (!already && rooms >= ctx.limits.maxRoomsPerConnection) {
    return refused('too_many_rooms', `room: this connection is already in ${rooms} rooms, the limit`)
  }
  let presence: unknown
  if (msg.presence !== undefined) {
    const checked = validatePresence(ctx, msg.presence, 'presence')
    if (!checked.ok) return checked
    presence = checked.value
  }
  if (!ctx.replayBudget.allows(connection, ctx.clock.now())) {
    ctx.replayCounters.refused()
    return refused(
      'rate_limited',
      `join: this connection's joins sent over ${ctx.limits.replayBytesPerSec} bytes a second of members and history; join again shortly`,
    )
  }
  const allowed = await authorize(ctx, connection, { action: 'join', room })
  if (!allowed.ok) return allowed
  if (!ctx.isOpen(connection)) return OK
  const member: Member = { id: connection.id }
  if (connection.user !== undefined) member.user = connection.user
  if (presence !== undefined) member.presence = presence
  const ticket = already ? undefined : ctx.local.beginJoin(room, connection)
  let result: JoinResult
  try {
    result = await ctx.adapter.join(room, member, replayOf(ctx, msg), ctx.limits.maxMembersPerRoom)
  } catch (err) {
    // It may have added the member before it failed (a Redis reply lost to a timeout): no ghost member.
    if (ticket !== undefined || leftMeanwhile(ctx, connection, room))
      await undoJoin(ctx, connection, room, ticket)
    return storeRefusal(err)
  }
  if (!result.ok) {
    ticket?.abandon()
    return refused('room_full', `room: "${room}" has ${ctx.limits.maxMembersPerRoom} members, the limit`)
  }
  // The adapter holds the member now: every way out but becoming a member leaves the room again, so nobody
  // sees a member_joined without its member_left.
  let isMember = false
  try {
    if (!ctx.isOpen(connection)) return OK
    const counted = ctx.local.countsFor(room, result.members.length)
    if (!(await writeJoin(ctx, connection, msg, result, counted))) return OK
    if (ticket !== undefined) {
      if (!ticket.complete(result, counted)) return OK
      isMember = true
    } else ctx.local.rejoined(room, connection, counted)
  } finally {
    if (ticket !== undefined ? !isMember : leftMeanwhile(ctx, connection, room)) {
      await undoJoin(ctx, connection, room, ticket)
    }
  }
  const onJoin = ctx.hooks.onJoin
  if (ticket !== undefined && onJoin !== undefined) {
    ctx.notify(connection, 'onJoin', () => onJoin(connection.info(), room))
  }
  return OK
}

function replayOf(ctx: HandlerContext, msg: JoinMessage): ReplayRequest {
  const replay: ReplayRequest = {}
  if (msg.since !== undefined) replay.since = msg.since
  if (msg.epoch !== undefined) replay.epoch = msg.epoch
  if (msg.history !== undefined) replay.history = Math.min(msg.history, ctx.limits.historySize)
  return replay
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
  counted: boolean,
): Promise<boolean> {
  const head: JoinedHead = { type: 'joined', room: msg.room, seq: result.seq, epoch: result.epoch }
  if (result.recovered !== undefined) head.recovered = result.recovered
  if (result.replay.length > 0) head.replay = result.replay.length
  // Counts mode (PROTOCOL.md, "Big rooms"): the count, and of the list only the joiner's own entry.
  let members = result.members
  if (counted) {
    head.count = members.length
    members = members.filter((member) => member.id === connection.id)
  }
  if (msg.ref !== undefined) head.ref = msg.ref
  const maxBuffered = ctx.limits.maxBufferedBytes
  const frames = joinFrames(head, members, result.replay, membersPageBytes(maxBuffered))
  const outcome = await writePaced(connection, frames, {
    highWaterBytes: Math.floor(maxBuffered / 2),
    stallTimeoutMs: ctx.limits.joinDrainTimeoutMs,
    clock: ctx.clock,
  })
  ctx.replayBudget.charge(connection, outcome.bytes, ctx.clock.now())
  ctx.replayCounters.sent(outcome.bytes)
  if (!outcome.ok && outcome.reason === 'stalled') ctx.slowConsumer(connection)
  return outcome.ok
}

/**
 * A re-join (the connection was already a member, so it has no ticket) whose membership ended while it was
 * in flight: a `leave`, or the close (`sessions.ts`), took the connection out of the room and the adapter
 * meanwhile, but that leave ran before the re-join was done with the adapter, which then counted the member
 * again: its answer put it back among the node's members, and while in flight it was a pending member that
 * a restore after a Redis reconnect registered again. Nothing else ever removed it: a ghost in the room for
 * good, with no member_left. Like an unfinished first join, it leaves the adapter itself once done. A room
 * the connection joins afresh meanwhile (`pending`, then `joined`) is left to that join.
 */
function leftMeanwhile(ctx: HandlerContext, connection: Connection, room: string): boolean {
  return ctx.local.stateOf(room, connection) === undefined
}

/** Forget a join that did not finish, here and in the adapter (which does nothing if it is not a member). */
async function undoJoin(
  ctx: HandlerContext,
  connection: Connection,
  room: string,
  ticket: JoinTicket | undefined,
): Promise<void> {
  ticket?.abandon()
  try {
    await ctx.adapter.leave(room, connection.id)
  } catch (err) {
    connection.log.error({ err, room }, 'could not remove the member of a failed join')
  }
}
