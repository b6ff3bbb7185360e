import type { RoomEventMessage } from '@roomwire/protocol'

/** Outcome of {@link HistoryRing.since}. */
export type SinceResult = { recovered: true; messages: RoomEventMessage[] } | { recovered: false }

/**
 * A room's last `capacity` messages in a ring, with an index of their message ids for publish dedupe.
 * Messages are pushed in seq order with no gaps, so the ring is addressed by seq. The ring grows as messages
 * arrive and the id index is made for the first message with an id: a room that is joined but quiet (most
 * of them) costs a few words, not `capacity` slots.
 */
export class HistoryRing {
  readonly #capacity: number
  readonly #ring: RoomEventMessage[] = []
  #ids: Map<string, number> | undefined
  #start = 0

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  /** How many messages are held. */
  get size(): number {
    return this.#ring.length
  }

  /** Append the next message; the oldest drops out when full. */
  push(message: RoomEventMessage): void {
    if (this.#capacity === 0) return
    if (this.#ring.length < this.#capacity) this.#ring.push(message)
    else {
      const evicted = this.#ring[this.#start]
      if (evicted?.id !== undefined && this.#ids?.get(evicted.id) === evicted.seq) {
        this.#ids.delete(evicted.id)
      }
      this.#ring[this.#start] = message
      this.#start = (this.#start + 1) % this.#capacity
    }
    if (message.id !== undefined) {
      this.#ids ??= new Map()
      this.#ids.set(message.id, message.seq)
    }
  }

  /** The seq of a held message with this id, if any. */
  seqOfId(id: string): number | undefined {
    return this.#ids?.get(id)
  }

  /** The last `count` messages, oldest first. */
  last(count: number): RoomEventMessage[] {
    const size = this.#ring.length
    const n = Math.min(count, size)
    const out: RoomEventMessage[] = []
    for (let i = size - n; i < size; i++) out.push(this.#ring[(this.#start + i) % size]!)
    return out
  }

  /**
   * Every message after `since`, given that the room's latest seq is `latest`; `recovered: false` when some
   * of them are no longer held, or `since` is ahead of the room.
   */
  since(since: number, latest: number): SinceResult {
    if (since > latest) return { recovered: false }
    const missing = latest - since
    if (missing > this.#ring.length) return { recovered: false }
    return { recovered: true, messages: this.last(missing) }
  }
}
