import type { RoomMessage } from './room-types'

/**
 * The last messages a room delivered, from its `joined` on: a ring of at most `capacity`, O(1) per
 * message. Message logs made after the messages arrived start from it (issue 13: a component that
 * mounts after the join must still show the history the join replayed).
 */
export class RecentMessages {
  #ring: RoomMessage[] = []
  #start = 0
  #capacity: number

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity)
  }

  /** Keep at least `capacity` from now on (a log with a larger limit, a larger `history`). */
  grow(capacity: number): void {
    if (capacity <= this.#capacity) return
    this.#ring = this.list()
    this.#start = 0
    this.#capacity = capacity
  }

  push(message: RoomMessage): void {
    if (this.#capacity === 0) return
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(message)
      return
    }
    this.#ring[this.#start] = message
    this.#start = (this.#start + 1) % this.#capacity
  }

  /** Oldest first. */
  list(): RoomMessage[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)]
  }
}
