import type {
  MemberJoinedMessage,
  MemberLeftMessage,
  PresenceChangedMessage,
  Member as WireMember,
} from '@roomwire/protocol'
import type { Member } from './room-types'

/** A live membership frame. */
export type MemberFrame = MemberJoinedMessage | MemberLeftMessage | PresenceChangedMessage

/** What a membership frame changed, as the room's lifecycle event says it. */
export interface MemberChange {
  readonly event: 'member_joined' | 'member_left' | 'presence'
  readonly member: Member
}

/**
 * The members of one room, keyed by connection id, with the frozen list snapshots hand out. The list is
 * rebuilt only after a change, so `useSyncExternalStore` consumers see the same array until then.
 * A `joined` whose list goes on in `members` pages is collected aside and replaces the list at its last
 * page, so the list is never half a room. At most `max` members are kept (a server cannot grow it
 * without bound); what does not fit is refused and reported by the room.
 * It only keeps the books: the room decides when to notify and which event to emit.
 */
export class Members {
  /** A Map, because connection ids come from the server. */
  #byId = new Map<string, Member>()
  /** The list being collected from `joined` and its `members` pages; null while none is. */
  #paging: Map<string, Member> | null = null
  #list: readonly Member[] | null = null
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  /** Every member, self included, in the order they joined; the same array until something changed. */
  get list(): readonly Member[] {
    this.#list ??= Object.freeze([...this.#byId.values()])
    return this.#list
  }

  /** Whether a paged member list is still being collected. */
  get paging(): boolean {
    return this.#paging !== null
  }

  get(id: string): Member | undefined {
    return this.#byId.get(id)
  }

  /**
   * Start replacing everyone with the list a `joined` carries (a rejoin may find a different room);
   * with `more`, pages follow and {@link page} finishes it. Returns how many members did not fit.
   */
  begin(members: readonly WireMember[], more: boolean): number {
    this.#paging = new Map()
    const refused = this.#collect(members)
    if (!more) this.#finish()
    return refused
  }

  /** The next page of a paged list; `more: false` ends it. Returns how many members did not fit. */
  page(members: readonly WireMember[], more: boolean): number {
    if (this.#paging === null) return members.length
    const refused = this.#collect(members)
    if (!more) this.#finish()
    return refused
  }

  /** Drop a list being collected (the connection dropped mid-pages). */
  abort(): void {
    this.#paging = null
  }

  /**
   * Apply a live membership frame. Returns the event to emit; null when nothing visible changed (an
   * unknown id left, or a list being collected took it); `full` when `max` members left no room.
   */
  apply(frame: MemberFrame): MemberChange | 'full' | null {
    const paging = this.#paging !== null
    let member: Member | undefined
    let event: MemberChange['event']
    if (frame.type === 'member_joined') {
      member = this.add(frame.member)
      event = 'member_joined'
    } else if (frame.type === 'presence') {
      member = this.setPresence(frame.id, frame.state)
      event = 'presence'
    } else {
      member = this.remove(frame.id)
      if (member === undefined) return null
      event = 'member_left'
    }
    if (member === undefined) return 'full'
    return paging ? null : { event, member }
  }

  /** Add or replace a member from `member_joined`; returns it, or undefined when the room is full. */
  add(wire: WireMember): Member | undefined {
    const target = this.#paging ?? this.#byId
    if (!target.has(wire.id) && target.size >= this.#max) return undefined
    const member = toMember(wire)
    target.set(member.id, member)
    if (target === this.#byId) this.#list = null
    return member
  }

  /** Remove a member; returns what was known of it, or undefined when it was not a member. */
  remove(id: string): Member | undefined {
    const target = this.#paging ?? this.#byId
    const member = target.get(id)
    if (member === undefined) return undefined
    target.delete(id)
    if (target === this.#byId) this.#list = null
    return member
  }

  /**
   * Set a member's presence; returns the updated member. A `presence` frame for an id not (yet) known
   * still records it while there is room: the server is the authority on who is in the room.
   */
  setPresence(id: string, state: unknown): Member | undefined {
    const target = this.#paging ?? this.#byId
    const known = target.get(id)
    if (known === undefined && target.size >= this.#max) return undefined
    const member = { ...known, id, presence: state }
    target.set(id, member)
    if (target === this.#byId) this.#list = null
    return member
  }

  #collect(members: readonly WireMember[]): number {
    const paging = this.#paging!
    let refused = 0
    for (const member of members) {
      if (!paging.has(member.id) && paging.size >= this.#max) refused++
      else paging.set(member.id, toMember(member))
    }
    return refused
  }

  #finish(): void {
    this.#byId = this.#paging!
    this.#paging = null
    this.#list = null
  }
}

/** A member without keys zod left `undefined`, so snapshots compare and print cleanly. */
export function toMember(wire: WireMember): Member {
  const member: { id: string; user?: string; presence?: unknown } = { id: wire.id }
  if (wire.user !== undefined) member.user = wire.user
  if (wire.presence !== undefined) member.presence = wire.presence
  return member
}
