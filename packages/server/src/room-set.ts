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

  /** Every room with its state, oldest first; a copy, safe to change the set while iterating. */
  entries(): [string, RoomMembership][] {
    if (this.#more !== undefined) return [...this.#more]
    return this.#room === undefined ? [] : [[this.#room, this.#state]]
  }
}
