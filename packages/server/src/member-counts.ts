import type { Member } from '@roomwire/protocol'
import type { RoomBroadcast } from './adapter'
import type { Connection } from './connection'
import { LazyFrame } from './frames'

/** A room is back to lists for new joiners once it has at most this share of `memberListMax`. */
export const LIST_AGAIN_AT = 0.9

/** A membership change, the only messages that move a count. */
type Change = Extract<RoomBroadcast, { type: 'member_joined' | 'member_left' }>

/** A message that tells a member of the others: a counted member gets none of them. */
export function isMemberFrame(message: RoomBroadcast): boolean {
  return message.type === 'member_joined' || message.type === 'member_left' || message.type === 'presence'
}

/**
 * Counts mode of one room on this node (issue 20, PROTOCOL.md "Big rooms"): which of its local members are
 * told only the count, and the count itself. The count is the size of the room's member list as the
 * adapter's change stream tells this node, the same stream a listed member applies to its `joined` list:
 * so a counted member always holds the number a listed one would count, cluster-wide with Redis too. Ids,
 * not a number, so that a change announced twice (a store re-registering members) counts once, as a
 * listed member's Map does.
 *
 * A member is counted when its `joined` said `count`, and a listed member becomes counted when the room
 * passes `max` (it gets a `member_count` and keeps only itself). Nobody goes back to a list but by joining
 * again; new joiners get lists again once the room has at most {@link LIST_AGAIN_AT} of `max`, so a
 * room hovering around `max` does not switch its joiners back and forth.
 * Made when the room's first local member completes its join; dropped when the last one leaves.
 */
/** The counted members of a room that has none. */
const NONE: ReadonlySet<Connection> = new Set()

export class RoomCounts {
  readonly #room: string
  readonly #max: number
  readonly #ids = new Set<string>()
  /**
   * Local members told only the count; made for the first one. Most rooms never have one, and an empty
   * Set was about 14 bytes of every idle connection in rooms of 10 (issue 14's idle-memory figure).
   */
  #counted: Set<Connection> | undefined
  /** New joiners are counted: set past `max`, cleared at {@link LIST_AGAIN_AT} of it. */
  #big = false
  /** The count moved, or members were switched, since the last `member_count` went out. */
  #due = false
  #frame: LazyFrame | undefined

  /** From the first member's join: the adapter's list it was answered with, then what came meanwhile. */
  constructor(room: string, max: number, members: readonly Member[], since: Iterable<RoomBroadcast>) {
    this.#room = room
    this.#max = max
    for (const member of members) this.#ids.add(member.id)
    for (const message of since) {
      if (message.type === 'member_joined' || message.type === 'member_left') this.apply(message)
    }
    this.#due = false
    this.#big = this.#ids.size > max
  }

  get count(): number {
    return this.#ids.size
  }

  /** Whether new joiners are counted. */
  get big(): boolean {
    return this.#big
  }

  apply(change: Change): void {
    const before = this.#ids.size
    if (change.type === 'member_joined') this.#ids.add(change.member.id)
    else this.#ids.delete(change.id)
    if (this.#ids.size === before) return
    this.#due = true
    this.#frame = undefined
    if (!this.#big && this.#ids.size > this.#max) this.#big = true
    else if (this.#big && this.#ids.size <= Math.floor(this.#max * LIST_AGAIN_AT)) this.#big = false
  }

  /** A member's mode, from its (re)join; a listed member's ends with its membership. */
  set(connection: Connection, counted: boolean): void {
    if (counted) this.#countedSet().add(connection)
    else this.#counted?.delete(connection)
  }

  left(connection: Connection): void {
    this.#counted?.delete(connection)
  }

  #countedSet(): Set<Connection> {
    this.#counted ??= new Set()
    return this.#counted
  }

  /** Local members told only the count (none: an empty list). */
  get counted(): ReadonlySet<Connection> {
    return this.#counted ?? NONE
  }

  /** Listed members of `members`: those that get changes and presence. */
  *listed(members: Iterable<Connection>): Generator<Connection> {
    const counted = this.#counted
    for (const connection of members) if (counted === undefined || !counted.has(connection)) yield connection
  }

  /** Past `max`, every listed member becomes counted (it is owed a `member_count`). */
  switchListed(members: Map<string, Connection>): void {
    if (!this.#big || this.counted.size === members.size) return
    const counted = this.#countedSet()
    for (const connection of members.values()) counted.add(connection)
    this.#due = true
  }

  /**
   * The `member_count` frame owed to the counted members, once per change; undefined when none is owed or
   * nobody is counted.
   */
  takeDue(): LazyFrame | undefined {
    if (!this.#due) return undefined
    this.#due = false
    // Nobody to send it to: no frame made, and none kept by an idle room (48 bytes and its text a room).
    return this.#counted === undefined || this.#counted.size === 0 ? undefined : this.frame()
  }

  /** The current count as a `member_count` frame, made once per count. */
  frame(): LazyFrame {
    if (this.#frame !== undefined) return this.#frame
    const text = `{"type":"member_count","room":${JSON.stringify(this.#room)},"count":${this.#ids.size}}`
    this.#frame = new LazyFrame(text)
    return this.#frame
  }
}
