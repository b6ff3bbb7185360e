import type { Member } from '@roomwire/protocol'
import type { RoomBroadcast } from './adapter'
import type { Connection } from './connection'
import type { LazyFrame } from './frames'

/** What a room received for a pending join, and its frame (made once for the whole fan-out). */
export interface Buffered {
  message: RoomBroadcast
  frame: LazyFrame
}

/** What a join's frames told the joiner: what arrived meanwhile is sent only when newer than this. */
export interface JoinedState {
  epoch: string
  seq: number
  /** The adapter's member list the join was answered with (a counted joiner was told only its size). */
  members: readonly Member[]
}

/**
 * A join in flight, from `LocalRooms.beginJoin`: the connection is `pending` in the room, and what the
 * room receives meanwhile is held for it. It ends with exactly one of `complete` or `abandon`.
 */
export interface JoinTicket {
  /** Still pending: not completed, abandoned, left with the connection, or dropped by its buffer overflowing. */
  readonly live: boolean
  /**
   * The join's frames were written: make the connection a member and send what arrived meanwhile and is
   * newer than `joined`; `counted`: its `joined` said `count` (counts mode). False when the ticket is no
   * longer live: it did not become a member.
   */
  complete(joined: JoinedState, counted?: boolean): boolean
  /** The join failed or was refused: forget it (does nothing once the ticket is not live). */
  abandon(): void
}

/** What a {@link PendingJoin} needs from the node's membership (local-rooms.ts). */
export interface PendingJoinHost {
  isPending(ticket: PendingJoin): boolean
  /**
   * Whether the joiner's membership changes that came meanwhile matter: to a listed joiner they are sent,
   * and the room's first member starts its count with them; a counted joiner of a counted room needs none.
   */
  wantsChanges(ticket: PendingJoin, counted: boolean): boolean
  /** The pending join becomes a member; `fresh`: what arrived meanwhile that is newer than its `joined`. */
  activate(ticket: PendingJoin, joined: JoinedState, fresh: Buffered[], counted: boolean): void
  abandon(ticket: PendingJoin): void
}

/** A pending join: its ticket and its buffer in one object (one allocation per join). */
export class PendingJoin implements JoinTicket {
  readonly #rooms: PendingJoinHost
  readonly room: string
  readonly connection: Connection
  readonly #buffered: Buffered[] = []
  #bytes = 0

  constructor(rooms: PendingJoinHost, room: string, connection: Connection) {
    this.#rooms = rooms
    this.room = room
    this.connection = connection
  }

  get live(): boolean {
    return this.#rooms.isPending(this)
  }

  /** Hold what the room received meanwhile; false once that passes `maxBytes`. */
  hold(entry: Buffered, maxBytes: number): boolean {
    this.#buffered.push(entry)
    this.#bytes += entry.frame.frame.length
    return this.#bytes <= maxBytes
  }

  /**
   * Becoming a member right after the join's frames (`joined` reporting `epoch`, `seq` and `members`, the
   * member pages, the replay) were written, then sending only what is newer than that state, is what keeps
   * replay + live free of gaps and duplicates when the adapter answers asynchronously and the replay is
   * written as the socket drains.
   */
  complete(joined: JoinedState, counted = false): boolean {
    if (!this.live) return false
    // Filtering the changes against a list of 5,000 for each joiner of a filling room was most of a join.
    const changes = this.#rooms.wantsChanges(this, counted)
    let listed: Set<string> | undefined
    const isListed = (id: string) => {
      listed ??= new Set(joined.members.map((member) => member.id))
      return listed.has(id)
    }
    const fresh = this.#buffered.filter(({ message }) => {
      if (message.type === 'message') return message.seq > joined.seq
      // The epoch the joiner was just told about: a `reset` to it would only move it back.
      if (message.type === 'reset') return message.epoch !== joined.epoch
      if (message.type === 'member_joined') return changes && !isListed(message.member.id)
      if (message.type === 'member_left') return changes && isListed(message.id)
      return true
    })
    this.#buffered.length = 0
    this.#rooms.activate(this, joined, fresh, counted)
    return true
  }

  abandon(): void {
    if (this.live) this.#rooms.abandon(this)
  }
}
