import type { Member as WireMember } from '@roomwire/protocol'
import type { Member } from './types'

/**
 * The members of one room, keyed by connection id, with the frozen list snapshots hand out. The list is
 * rebuilt only after a change, so `useSyncExternalStore` consumers see the same array until then.
 * It only keeps the books: the room decides when to notify and which event to emit.
 */
export class Members {
  /** A Map, because connection ids come from the server. */
  readonly #byId = new Map<string, Member>()
  #list: readonly Member[] | null = null

  /** Every member, self included, in the order they joined; the same array until something changed. */
  get list(): readonly Member[] {
    this.#list ??= Object.freeze([...this.#byId.values()])
    return this.#list
  }

  get(id: string): Member | undefined {
    return this.#byId.get(id)
  }

  /** Replace everyone with the list a `joined` carries (a rejoin may find a different room). */
  reset(members: readonly WireMember[]): void {
    this.#byId.clear()
    for (const member of members) this.#byId.set(member.id, toMember(member))
    this.#list = null
  }

  /** Add or replace a member from `member_joined`; returns it as handlers receive it. */
  add(wire: WireMember): Member {
    return this.#set(toMember(wire))
  }

  /** Remove a member; returns what was known of it, or undefined when it was not a member. */
  remove(id: string): Member | undefined {
    const member = this.#byId.get(id) ?? { id }
    if (!this.#byId.delete(id)) return undefined
    this.#list = null
    return member
  }

  /**
   * Set a member's presence; returns the updated member. A `presence` frame for an id not (yet) known
   * still records it: the server is the authority on who is in the room.
   */
  setPresence(id: string, state: unknown): Member {
    return this.#set({ ...this.#byId.get(id), id, presence: state })
  }

  #set(member: Member): Member {
    this.#byId.set(member.id, member)
    this.#list = null
    return member
  }
}

/** A member without keys zod left `undefined`, so snapshots compare and print cleanly. */
function toMember(wire: WireMember): Member {
  const member: { id: string; user?: string; presence?: unknown } = { id: wire.id }
  if (wire.user !== undefined) member.user = wire.user
  if (wire.presence !== undefined) member.presence = wire.presence
  return member
}
