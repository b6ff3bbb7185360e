import { encode, type Member } from '@roomwire/protocol'
import type { DeliverOptions, RoomBroadcast } from './adapter'
import { type Connection, framePayload, textFrame } from './connection'

/** What a room received for a pending join, and its frame (made once for the whole fan-out). */
interface Buffered {
  message: RoomBroadcast
  frame: Buffer
}

/** A join waiting for the adapter and then for its replay to be written. */
interface Pending {
  readonly buffered: Buffered[]
  bytes: number
}

interface LocalRoom {
  /** Members that reached `joined`: the fan-out loop touches only these. */
  readonly members: Map<string, Connection>
  /** Pending joins, with what was delivered to the room meanwhile; made when needed. */
  pending: Map<Connection, Pending> | undefined
}

/** Counts what a fan-out sent, once per fan-out rather than once per socket. */
export type SentCounter = (frames: number, bytes: number) => void

/** What {@link LocalRooms} needs from its server. */
export interface LocalRoomsHost {
  /** Counts frames sent. */
  sent: SentCounter
  /** Bytes a pending join may buffer (`maxBufferedBytes`: it is that connection's send buffer, held back). */
  readonly maxPendingBytes: number
  /** A pending join buffered more than `maxPendingBytes`: its buffer is dropped; close it as a slow consumer. */
  overflow(connection: Connection): void
}

/**
 * This node's room member index: which local connections are in which room. A room leaves the index as soon
 * as its last local member does (its seq, epoch and history live in the adapter).
 */
export class LocalRooms {
  readonly #rooms = new Map<string, LocalRoom>()
  readonly #host: LocalRoomsHost

  constructor(host: LocalRoomsHost) {
    this.#host = host
  }

  /** Rooms with a local member or a pending join. */
  get size(): number {
    return this.#rooms.size
  }

  /**
   * Start a join: from now on, what the room receives is buffered for this connection (at most
   * `maxPendingBytes` of it) until {@link activate}.
   */
  addPending(room: string, connection: Connection): void {
    let local = this.#rooms.get(room)
    if (local === undefined) {
      local = { members: new Map(), pending: undefined }
      this.#rooms.set(room, local)
    }
    local.pending ??= new Map()
    local.pending.set(connection, { buffered: [], bytes: 0 })
  }

  /**
   * Finish a join whose frames (`joined` reporting `epoch`, `seq` and `members`, the member pages, the
   * replay) were just written: make the connection a member, then send what arrived while it was pending
   * and is newer than that state. This is what keeps replay + live free of gaps and duplicates when the adapter answers
   * asynchronously and the replay is written as the socket drains. False when the join is no longer
   * pending (its buffer overflowed, or it was removed): it did not become a member.
   */
  activate(
    room: string,
    connection: Connection,
    joined: { epoch: string; seq: number; members: readonly Member[] },
  ): boolean {
    const local = this.#rooms.get(room)
    const pending = local?.pending?.get(connection)
    if (local === undefined || pending === undefined) return false
    dropPending(local, connection)
    local.members.set(connection.id, connection)
    if (pending.buffered.length === 0) return true
    let listed: Set<string> | undefined
    const isListed = (id: string) => {
      listed ??= new Set(joined.members.map((member) => member.id))
      return listed.has(id)
    }
    for (const { message, frame } of pending.buffered) {
      if (message.type === 'message' && message.seq <= joined.seq) continue
      // The epoch the joiner was just told about: a `reset` to it would only move it back.
      if (message.type === 'reset' && message.epoch === joined.epoch) continue
      if (message.type === 'member_joined' && isListed(message.member.id)) continue
      if (message.type === 'member_left' && !isListed(message.id)) continue
      if (connection.sendFrame(frame)) this.#host.sent(1, framePayload(frame).length)
    }
    return true
  }

  /** Remove a member or a pending join; the room leaves the index when nothing is left. */
  remove(room: string, connection: Connection): void {
    const local = this.#rooms.get(room)
    if (local === undefined) return
    if (local.members.get(connection.id) === connection) local.members.delete(connection.id)
    dropPending(local, connection)
    this.#dropIfEmpty(room, local)
  }

  /** Local member ids of a room. */
  memberIds(room: string): string[] {
    return [...(this.#rooms.get(room)?.members.keys() ?? [])]
  }

  /** Send a room message to its local members: serialized and converted to a Buffer once for all of them. */
  deliver(room: string, message: RoomBroadcast, options?: DeliverOptions): void {
    const local = this.#rooms.get(room)
    if (local === undefined) return
    const skip = options?.skip
    // Serialized on the first recipient: a room whose only member is the publisher costs nothing.
    let frame: Buffer | undefined
    if (local.members.size > 0) {
      let sent = 0
      for (const [id, connection] of local.members) {
        if (id === skip) continue
        frame ??= textFrame(options?.encoded ?? encode(message))
        if (connection.sendFrame(frame)) sent++
      }
      if (sent > 0) this.#host.sent(sent, sent * framePayload(frame!).length)
    }
    if (local.pending === undefined) return
    for (const [connection, pending] of local.pending) {
      if (connection.id === skip) continue
      frame ??= textFrame(options?.encoded ?? encode(message))
      pending.buffered.push({ message, frame })
      pending.bytes += frame.length
      if (pending.bytes > this.#host.maxPendingBytes) {
        // Held back for a joiner that is slower than its room: it resumes with `since` on its next
        // connection, where joined comes first and the replay continues from what it got.
        dropPending(local, connection)
        this.#host.overflow(connection)
      }
    }
    this.#dropIfEmpty(room, local)
  }

  #dropIfEmpty(room: string, local: LocalRoom): void {
    if (local.members.size === 0 && local.pending === undefined) this.#rooms.delete(room)
  }
}

/** Forget a pending join, and the room's pending index once it is empty. */
function dropPending(local: LocalRoom, connection: Connection): void {
  if (local.pending?.delete(connection) === true && local.pending.size === 0) local.pending = undefined
}
