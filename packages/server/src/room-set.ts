/** A connection's state in one room: `pending` while its join waits for the adapter and its replay. */
export type RoomMembership = 'pending' | 'joined'

/**
 * The rooms of one connection, oldest first. The common case, a connection in a single room, is held in
 * two fields; a Map is made only for a second room, and dropped again when one is left. Written only by
 * {@link LocalRooms}.
 */
export class RoomSet {
  /** The one room while there is at most one; undefined with `#more` when there are several. */
  #room: string | undefined
  #state: RoomMembership = 'pending'
  #more: Map<string, RoomMembership> | undefined

  get(room: string): RoomMembership | undefined {
    if (this.#more !== undefined) return this.#more.get(room)
    return this.#room === room ? this.#state : undefined
  }

  get size(): number {
    if (this.#more !== undefined) return this.#more.size
    return this.#room === undefined ? 0 : 1
  }

  set(room: string, state: RoomMembership): void {
    if (this.#more !== undefined) this.#more.set(room, state)
    else if (this.#room === undefined || this.#room === room) {
      this.#room = room
      this.#state = state
    } else {
      this.#more = new Map([
        [this.#room, this.#state],
        [room, state],
      ])
      this.#room = undefined
    }
  }

  delete(room: string): void {
    if (this.#more === undefined) {
      if (this.#room === room) this.#room = undefined
      return
    }
    this.#more.delete(room)
    if (this.#more.size <= 1) {
      const [entry] = this.#more
      this.#more = undefined
      if (entry !== undefined) [this.#room, this.#state] = entry
    }
  }

  /** The room, when the set holds exactly one and that one is joined: what a slot can hold as a name alone. */
  onlyJoined(): string | undefined {
    return this.#more === undefined && this.#state === 'joined' ? this.#room : undefined
  }

  /** Every room with its state, oldest first; a copy, safe to change the set while iterating. */
  entries(): [string, RoomMembership][] {
    if (this.#more !== undefined) return [...this.#more]
    return this.#room === undefined ? [] : [[this.#room, this.#state]]
  }
}

/**
 * A connection's rooms as its `rooms` slot holds them: none, the one room it is joined to as the room's
 * name alone, or a {@link RoomSet} (several rooms, or a join still pending). An idle connection is mostly
 * joined to one room, and a RoomSet of its own for that was 48 bytes of every one (issue 14's idle-memory
 * figure); a name costs the slot only. The functions below are the only readers and writers of a slot;
 * the writers return what the slot holds next.
 */
export type RoomSlot = RoomSet | string | undefined

export function slotGet(slot: RoomSlot, room: string): RoomMembership | undefined {
  if (typeof slot === 'string') return slot === room ? 'joined' : undefined
  return slot?.get(room)
}

export function slotSize(slot: RoomSlot): number {
  if (typeof slot === 'string') return 1
  return slot?.size ?? 0
}

export function slotSet(slot: RoomSlot, room: string, state: RoomMembership): RoomSlot {
  if (slot === undefined || slot === room) {
    if (state === 'joined') return room
    const set = new RoomSet()
    set.set(room, state)
    return set
  }
  const set = typeof slot === 'string' ? joinedSet(slot) : slot
  set.set(room, state)
  return set.onlyJoined() ?? set
}

export function slotDelete(slot: RoomSlot, room: string): RoomSlot {
  if (typeof slot === 'string') return slot === room ? undefined : slot
  if (slot === undefined) return undefined
  slot.delete(room)
  return slot.size === 0 ? undefined : (slot.onlyJoined() ?? slot)
}

/** Every room with its state, oldest first; a copy, safe to change the slot while iterating. */
export function slotEntries(slot: RoomSlot): [string, RoomMembership][] {
  if (typeof slot === 'string') return [[slot, 'joined']]
  return slot?.entries() ?? []
}

function joinedSet(room: string): RoomSet {
  const set = new RoomSet()
  set.set(room, 'joined')
  return set
}
