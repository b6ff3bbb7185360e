import { encode } from '@roomwire/protocol'
import type { DeliverOptions, RoomBroadcast } from './adapter'
import type { Connection } from './connection'
import { type FanOutSink, fanOut, framePayload, LazyFrame } from './frames'
import { isMemberFrame, RoomCounts } from './member-counts'
import { MembershipBatch } from './membership-batch'
import {
  type Buffered,
  type JoinedState,
  type JoinTicket,
  PendingJoin,
  type PendingJoinHost,
} from './pending-join'
import { type RoomMembership, slotDelete, slotEntries, slotGet, slotSet, slotSize } from './room-set'

interface LocalRoom {
  /** Members that reached `joined`: the fan-out loop touches only these. */
  readonly members: Map<string, Connection>
  /** Pending joins, with what was delivered to the room meanwhile; made when needed. */
  pending: Map<Connection, PendingJoin> | undefined
  /** Membership changes not yet written to the members; made when needed. */
  batch: MembershipBatch | undefined
  /** When the last batch was written (`performance.now()`), and the timer of the next when it waits. */
  flushedAt: number
  flushTimer: ReturnType<typeof setTimeout> | undefined
  /** Counts mode (member-counts.ts), while the room has a local member and `memberListMax` is on. */
  counts: RoomCounts | undefined
}

/**
 * While changes keep coming, a room's members get at most one membership frame per this many ms: at 1,000
 * joins a second that is about 50 changes a frame instead of 1,000 frames per member a second. A change
 * after a quiet spell goes out at the end of its turn, so a quiet room sees no delay. Paced on real time,
 * not the server's clock: it only spaces writes, and a test's stopped clock must not hold frames back.
 */
export const MEMBERSHIP_TICK_MS = 50

/**
 * The same for a room whose members are all counted: a count is one number, and writing it to 5,000
 * members every 50 ms was most of the server's CPU filling such a room (and stalled its accepts).
 */
export const COUNT_TICK_MS = 250

/** What {@link LocalRooms} needs from its server. */
export interface LocalRoomsHost extends FanOutSink<Connection> {
  /** Bytes a pending join may buffer (`maxBufferedBytes`: it is that connection's send buffer, held back). */
  readonly maxPendingBytes: number
  /** Rooms above this many members are in counts mode (`memberListMax`); 0: never. */
  readonly memberListMax: number
  /**
   * A member's send buffer, or a pending join's held frames (past `maxPendingBytes`: dropped), overflowed:
   * close it as a slow consumer.
   */
  overflow(connection: Connection): void
}

/**
 * This node's room membership, the only place it is written: which local connections are in or joining
 * which room (both directions: members by room, rooms by connection). Handlers ask it (`stateOf`,
 * `roomCount`) and change it through `beginJoin`/ticket, `leave` and `leaveAll`. A room leaves the index as
 * soon as its last local member does (its seq, epoch and history live in the adapter).
 */
export class LocalRooms implements PendingJoinHost {
  readonly #rooms = new Map<string, LocalRoom>()
  readonly #host: LocalRoomsHost
  /** Rooms with membership changes waiting for the end of this turn. */
  #batched: LocalRoom[] = []
  readonly #flushBatches = (): void => {
    const rooms = this.#batched
    this.#batched = []
    for (const local of rooms) this.#flush(local)
  }

  constructor(host: LocalRoomsHost) {
    this.#host = host
  }

  /** Rooms with a local member or a pending join. */
  get size(): number {
    return this.#rooms.size
  }

  /** The connection's state in `room`, or undefined when it is neither in it nor joining it. */
  stateOf(room: string, connection: Connection): RoomMembership | undefined {
    return slotGet(connection.rooms, room)
  }

  /** How many rooms the connection is in or joining. */
  roomCount(connection: Connection): number {
    return slotSize(connection.rooms)
  }

  /** Local member ids of a room. */
  memberIds(room: string): string[] {
    return [...(this.#rooms.get(room)?.members.keys() ?? [])]
  }

  /**
   * Start a join of a room the connection is not in: from now on, what the room receives is buffered for
   * it (at most `maxPendingBytes`) until the ticket completes.
   */
  beginJoin(room: string, connection: Connection): JoinTicket {
    let local = this.#rooms.get(room)
    if (local === undefined) {
      local = {
        members: new Map(),
        pending: undefined,
        batch: undefined,
        flushedAt: Number.NEGATIVE_INFINITY,
        flushTimer: undefined,
        counts: undefined,
      }
      this.#rooms.set(room, local)
    }
    const ticket = new PendingJoin(this, room, connection)
    local.pending ??= new Map()
    local.pending.set(connection, ticket)
    this.#setState(room, connection, 'pending')
    return ticket
  }

  /** A member leaves `room`; false when it was not a member (a pending join is left to its ticket). */
  leave(room: string, connection: Connection): boolean {
    const local = this.#rooms.get(room)
    if (local === undefined || local.members.get(connection.id) !== connection) return false
    removeMember(local, connection)
    this.#deleteState(room, connection)
    this.#dropIfEmpty(room, local)
    return true
  }

  /**
   * The connection is gone: it leaves every room, and its pending joins stop being live (their handlers
   * see that and undo them). Returns the rooms it was a member of, for the adapter.
   */
  leaveAll(connection: Connection): string[] {
    const slot = connection.rooms
    if (slot === undefined) return []
    connection.rooms = undefined
    const joined: string[] = []
    for (const [room, state] of slotEntries(slot)) {
      const local = this.#rooms.get(room)
      if (local === undefined) continue
      if (state === 'joined') {
        if (local.members.get(connection.id) === connection) removeMember(local, connection)
        joined.push(room)
      } else dropPending(local, connection)
      this.#dropIfEmpty(room, local)
    }
    return joined
  }

  /**
   * Send a room message to its local members: serialized and framed once for all of them. Membership
   * changes are held until the turn ends and then written as one frame per member (membership-batch.ts);
   * any other room frame first writes the changes before it, so the room's order is kept.
   */
  deliver(room: string, message: RoomBroadcast, options?: DeliverOptions): void {
    const local = this.#rooms.get(room)
    if (local === undefined) return
    const skip = options?.skip
    const frame = new LazyFrame(options?.encoded ?? (() => encode(message)))
    const change = message.type === 'member_joined' || message.type === 'member_left'
    const counts = local.counts
    if (change) counts?.apply(message)
    // A change that skips a member (the joiner is pending, not a member, in every ordinary join) is not
    // batched: every member of a batch gets every change after its start.
    if (change && (skip === undefined || !local.members.has(skip))) {
      if (local.members.size > 0) this.#batchOf(room, local).add(message)
    } else {
      if (local.batch !== undefined) this.#flush(local)
      // Counted members hear of the others only through the count (the batch's flush sends it).
      const to =
        counts !== undefined && isMemberFrame(message)
          ? counts.listed(local.members.values())
          : local.members.values()
      if (local.members.size > 0) fanOut(frame, to, this.#host, skip)
      if (change && counts !== undefined) this.#batchOf(room, local)
    }
    if (local.pending === undefined) return
    for (const [connection, pending] of local.pending) {
      if (connection.id === skip) continue
      if (!pending.hold({ message, frame }, this.#host.maxPendingBytes)) {
        // Held back for a joiner that is slower than its room: it resumes with `since` on its next
        // connection, where joined comes first and the replay continues from what it got.
        this.#endPending(room, connection)
        this.#host.overflow(connection)
      }
    }
    this.#dropIfEmpty(room, local)
  }

  /** @internal {@link PendingJoin}: whether this ticket is the room's pending join of its connection. */
  isPending(ticket: PendingJoin): boolean {
    return this.#rooms.get(ticket.room)?.pending?.get(ticket.connection) === ticket
  }

  /**
   * @internal {@link PendingJoin.complete}: the pending join becomes a member, and gets what arrived
   * meanwhile (a counted member: not the others' changes, but the count when they moved it).
   */
  activate(ticket: PendingJoin, joined: JoinedState, fresh: Buffered[], counted: boolean): void {
    const { room, connection } = ticket
    const local = this.#rooms.get(room)!
    dropPending(local, connection)
    const max = this.#host.memberListMax
    if (max > 0 && local.counts === undefined) {
      local.counts = new RoomCounts(room, max, joined.members, messagesOf(fresh))
    }
    local.members.set(connection.id, connection)
    local.batch?.joined(connection)
    this.#setState(room, connection, 'joined')
    for (const { message, frame } of fresh) {
      if (!counted || !isMemberFrame(message)) this.sendBuffered(connection, frame)
    }
    const counts = local.counts
    if (counts === undefined) return
    // A listed joiner of a room that passed the threshold meanwhile is switched at once.
    const switched = !counted && counts.big
    counts.set(connection, counted || switched)
    if (switched || (counted && counts.count !== joined.members.length)) {
      this.sendBuffered(connection, counts.frame())
    }
  }

  /** @internal {@link PendingJoin.complete}. */
  wantsChanges(ticket: PendingJoin, counted: boolean): boolean {
    return !counted || this.#rooms.get(ticket.room)?.counts === undefined
  }

  /** Whether a join answered with `size` members is told the count instead of the list. */
  countsFor(room: string, size: number): boolean {
    const max = this.#host.memberListMax
    return max > 0 && (size > max || this.#rooms.get(room)?.counts?.big === true)
  }

  /** A member joined again (same connection): it is counted or listed as its new `joined` said. */
  rejoined(room: string, connection: Connection, counted: boolean): void {
    this.#rooms.get(room)?.counts?.set(connection, counted)
  }

  /** @internal A pending join ends without becoming a member. */
  #endPending(room: string, connection: Connection): void {
    const local = this.#rooms.get(room)
    if (local === undefined) return
    dropPending(local, connection)
    this.#deleteState(room, connection)
    this.#dropIfEmpty(room, local)
  }

  /** @internal {@link PendingJoin.abandon}. */
  abandon(ticket: PendingJoin): void {
    this.#endPending(ticket.room, ticket.connection)
  }

  /** @internal Write one buffered frame to a member that just completed its join, counted. */
  sendBuffered(connection: Connection, frame: LazyFrame): void {
    if (connection.sendFrame(frame)) this.#host.sent(1, framePayload(frame.frame).length)
  }

  #setState(room: string, connection: Connection, state: RoomMembership): void {
    connection.rooms = slotSet(connection.rooms, room, state)
  }

  #deleteState(room: string, connection: Connection): void {
    connection.rooms = slotDelete(connection.rooms, room)
  }

  /**
   * The room's pending batch, made on the first change and written at the end of the turn, or one tick
   * after the previous batch when that was less than a tick ago.
   */
  #batchOf(room: string, local: LocalRoom): MembershipBatch {
    if (local.batch !== undefined) return local.batch
    local.batch = new MembershipBatch(room)
    const counts = local.counts
    const tick = counts?.counted.size === local.members.size ? COUNT_TICK_MS : MEMBERSHIP_TICK_MS
    const wait = local.flushedAt + tick - performance.now()
    if (wait > 0) {
      local.flushTimer = setTimeout(() => this.#flush(local), wait)
      local.flushTimer.unref()
    } else {
      // A macrotask boundary, not a timer (like the write coalescer): it stays on the real event loop.
      if (this.#batched.length === 0) setImmediate(this.#flushBatches)
      this.#batched.push(local)
    }
    return local.batch
  }

  /** Write a room's batch: one frame per member, each with the changes it is owed. */
  #flush(local: LocalRoom): void {
    const batch = local.batch
    if (batch === undefined) return
    local.batch = undefined
    if (local.flushTimer !== undefined) clearTimeout(local.flushTimer)
    local.flushTimer = undefined
    local.flushedAt = performance.now()
    const counts = local.counts
    if (counts === undefined) {
      for (const [frame, members] of batch.frames(local.members.values())) fanOut(frame, members, this.#host)
      return
    }
    counts.switchListed(local.members)
    if (counts.counted.size < local.members.size) {
      for (const [frame, members] of batch.frames(counts.listed(local.members.values())))
        fanOut(frame, members, this.#host)
    }
    const count = counts.takeDue()
    if (count !== undefined) fanOut(count, counts.counted, this.#host)
  }

  #dropIfEmpty(room: string, local: LocalRoom): void {
    if (local.members.size !== 0 || local.pending !== undefined) return
    this.#rooms.delete(room)
    // Nobody is left to tell.
    if (local.flushTimer !== undefined) clearTimeout(local.flushTimer)
    local.batch = undefined
  }
}

/** A member leaves a room; its counts mode ends with the room's last local member. */
function removeMember(local: LocalRoom, connection: Connection): void {
  local.members.delete(connection.id)
  if (local.members.size === 0) local.counts = undefined
  else local.counts?.left(connection)
}

function* messagesOf(entries: readonly Buffered[]): Generator<RoomBroadcast> {
  for (const entry of entries) yield entry.message
}

/** Forget a pending join, and the room's pending index once it is empty. */
function dropPending(local: LocalRoom, connection: Connection): void {
  if (local.pending?.delete(connection) === true && local.pending.size === 0) local.pending = undefined
}
