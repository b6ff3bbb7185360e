import type {
  JoinedMessage,
  MemberChangesMessage,
  MemberCountMessage,
  MembersMessage,
} from '@roomwire/protocol'
import { RoomwireError } from './errors'
import { type MemberChange, type MemberFrame, Members } from './members'
import type { Member } from './room-types'

/** What a room's members tell the room. */
export interface RoomMembersListener {
  /** The member list (or a member's presence) changed. */
  changed(): void
  /** The lifecycle event for the app (`member_joined`, `member_left`, `presence`). */
  emit(event: MemberChange['event'], member: Member): void
  report(error: RoomwireError): void
}

/**
 * A room's membership as the server tells it: the list a `joined` carries (and its `members` pages),
 * the live frames, and this member's own presence ahead of the server's echo. The book is
 * {@link Members}; this part says what changed and reports what a server sent wrong (members over the
 * bound, a page nobody asked for) as `bad_frame`.
 */
export class RoomMembers {
  readonly #book: Members
  readonly #room: string
  readonly #listener: RoomMembersListener
  /** Counts mode (PROTOCOL.md, "Big rooms"): the server's count; null while the list is the room's. */
  #count: number | null = null
  /** This member's id on the connection of the last `joined`: a switch to counts keeps its entry. */
  #self: string | null = null

  constructor(room: string, max: number, listener: RoomMembersListener) {
    this.#book = new Members(max)
    this.#room = room
    this.#listener = listener
  }

  /** Every member, self included; the same frozen array until something changed. */
  get list(): readonly Member[] {
    return this.#book.list
  }

  /** How many members the room has, self included: the server's count, or the list's length. */
  get count(): number {
    return this.#count ?? this.#book.list.length
  }

  /** The snapshot's part: the members, and how many the room has. */
  get snapshot(): { members: readonly Member[]; memberCount: number } {
    return { members: this.list, memberCount: this.count }
  }

  /** A paged member list is still being collected. */
  get paging(): boolean {
    return this.#book.paging
  }

  get(id: string | null): Member | null {
    return id === null ? null : (this.#book.get(id) ?? null)
  }

  /**
   * The list a `joined` carries replaces everyone (in counts mode: self, and the count); false while
   * pages follow. `self`: this member's id on the connection.
   */
  joined(message: JoinedMessage, self: string | null): boolean {
    this.#self = self
    this.#count = message.count ?? null
    this.#refused(this.#book.begin(message.members, message.more === true))
    return !this.#book.paging
  }

  /** The next `members` page; true when it completed the list. */
  page(message: MembersMessage): boolean {
    if (!this.#book.paging) {
      this.#report('members frame without joined.more')
      return false
    }
    this.#refused(this.#book.page(message.members, message.more === true))
    return !this.#book.paging
  }

  /** A live membership frame, or counts mode's `member_count`. */
  frame(frame: MemberFrame | MemberCountMessage): void {
    if (frame.type === 'member_count') {
      this.#counted(frame)
      return
    }
    const change = this.#book.apply(frame)
    if (change === 'full') this.#refused(1)
    else if (change !== null) {
      this.#listener.changed()
      this.#listener.emit(change.event, change.member)
    }
  }

  /** A batch of the room's membership changes: each is applied (and emitted) as if it came alone. */
  changes(message: MemberChangesMessage): void {
    for (const change of message.changes) {
      if (change.joined !== undefined)
        this.frame({ type: 'member_joined', room: message.room, member: change.joined })
      else if (change.left !== undefined)
        this.frame({ type: 'member_left', room: message.room, id: change.left })
    }
  }

  /** Counts mode: the room's count; a listed member keeps only itself from now on. */
  #counted(message: MemberCountMessage): void {
    if (this.#count === null) {
      const own = this.#self === null ? undefined : this.#book.get(this.#self)
      this.#book.begin(own === undefined ? [] : [own], false)
    }
    this.#count = message.count
    this.#listener.changed()
  }

  /** This member's own presence, shown at once (the server's `presence` frame confirms it). */
  setOwn(id: string | null, state: unknown): void {
    if (id === null || this.#book.get(id) === undefined) return
    this.#book.setPresence(id, state)
    this.#listener.changed()
  }

  /** The connection dropped: a list being collected is void. */
  abort(): void {
    this.#book.abort()
  }

  #refused(members: number): void {
    if (members > 0) this.#report(`${members} members over maxMembers`)
  }

  #report(what: string): void {
    this.#listener.report(new RoomwireError('bad_frame', `room "${this.#room}": ${what}`))
  }
}
