import { encode, type Member } from '@roomwire/protocol'
import type { DeliverOptions, RoomBroadcast } from './adapter'
import { type Connection, framePayload, textFrame } from './connection'

interface Buffered {
  message: RoomBroadcast
  skip: string | undefined
}

interface LocalRoom {
  /** Members that reached `joined`: the fan-out loop touches only these. */
  readonly members: Map<string, Connection>
  /** Joins waiting for the adapter, with what was delivered to the room meanwhile; made when needed. */
  pending: Map<Connection, Buffered[]> | undefined
}

/** Counts what a fan-out sent, once per fan-out rather than once per socket. */
export type SentCounter = (frames: number, bytes: number) => void

/**
 * This node's room member index: which local connections are in which room. A room leaves the index as soon
 * as its last local member does (its seq, epoch and history live in the adapter).
 */
export class LocalRooms {
  readonly #rooms = new Map<string, LocalRoom>()
  readonly #sent: SentCounter

  constructor(sent: SentCounter) {
    this.#sent = sent
  }

  /** Rooms with a local member or a pending join. */
  get size(): number {
    return this.#rooms.size
  }

  /** Start a join: from now on, what the room receives is buffered for this connection. */
  addPending(room: string, connection: Connection): void {
    let local = this.#rooms.get(room)
    if (local === undefined) {
      local = { members: new Map(), pending: undefined }
      this.#rooms.set(room, local)
    }
    local.pending ??= new Map()
    local.pending.set(connection, [])
  }

  /**
   * Finish a join whose `joined` (reporting `seq` and `members`) was just sent: make the connection a
   * member, then send what arrived while it was pending and is newer than that state. This is what keeps
   * replay + live free of gaps and duplicates when the adapter answers asynchronously.
   */
  activate(room: string, connection: Connection, seq: number, members: readonly Member[]): void {
    const local = this.#rooms.get(room)
    const buffered = local?.pending?.get(connection)
    if (local === undefined || buffered === undefined) return
    dropPending(local, connection)
    local.members.set(connection.id, connection)
    if (buffered.length === 0) return
    const listed = new Set(members.map((member) => member.id))
    for (const { message } of buffered) {
      if (message.type === 'message' && message.seq <= seq) continue
      if (message.type === 'member_joined' && listed.has(message.member.id)) continue
      if (message.type === 'member_left' && !listed.has(message.id)) continue
      connection.send(message)
    }
  }

  /** Remove a member or a pending join; the room leaves the index when nothing is left. */
  remove(room: string, connection: Connection): void {
    const local = this.#rooms.get(room)
    if (local === undefined) return
    if (local.members.get(connection.id) === connection) local.members.delete(connection.id)
    dropPending(local, connection)
    if (local.members.size === 0 && local.pending === undefined) this.#rooms.delete(room)
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
    if (local.members.size > 0) {
      // Serialized on the first recipient: a room whose only member is the publisher costs nothing.
      let frame: Buffer | undefined
      let sent = 0
      for (const [id, connection] of local.members) {
        if (id === skip) continue
        frame ??= textFrame(options?.encoded ?? encode(message))
        if (connection.sendFrame(frame)) sent++
      }
      if (sent > 0) this.#sent(sent, sent * framePayload(frame!).length)
    }
    if (local.pending === undefined) return
    for (const [connection, buffered] of local.pending) {
      if (connection.id !== skip) buffered.push({ message, skip })
    }
  }
}

/** Forget a pending join, and the room's pending index once it is empty. */
function dropPending(local: LocalRoom, connection: Connection): void {
  if (local.pending?.delete(connection) === true && local.pending.size === 0) local.pending = undefined
}
