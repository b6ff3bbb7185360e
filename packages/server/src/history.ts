/** Outcome of {@link HistoryRing.since}: the frames after `since`, or `recovered: false` when some are gone. */
export type SinceResult = { recovered: true; frames: string[] } | { recovered: false }

/** Compact the arrays once this many slots at their front are spent (and they are at least half). */
const COMPACT_AFTER = 64

/**
 * A room's last messages as their encoded `message` frames (the JSON text as first sent), bounded by a count
 * and by bytes, with an index of their message ids for publish dedupe. Kept as text, not as parsed objects:
 * a 60 KB message of `[{},{},…]` cost 1.28 MB of heap as objects (issue 12), as text it costs 60 KB.
 *
 * Messages are pushed in seq order with no gaps and leave oldest first, so what is held is always the run of
 * seqs ending at the last one pushed; a message larger than the byte budget is not held, and neither is
 * anything older. A message's id leaves the index when the message leaves the ring. The arrays grow as
 * messages arrive and the id index is made for the first message with an id: a room that is joined but
 * quiet (most of them) costs a few words.
 */
export class HistoryRing {
  readonly #capacity: number
  readonly #maxBytes: number
  /** Frames, oldest first from `#head`; slots before it are spent and freed by compaction. */
  #texts: string[] = []
  /** UTF-8 bytes of each frame, parallel to `#texts`. */
  #sizes: number[] = []
  /** The id of each frame, parallel to `#texts`; made with the first id. */
  #idOf: (string | undefined)[] | undefined
  #ids: Map<string, number> | undefined
  #head = 0
  #lastSeq = 0
  #bytes = 0

  /**
   * @param capacity messages held at most (`historySize`)
   * @param maxBytes bytes of frames held at most (`historyMaxBytes`)
   */
  constructor(capacity: number, maxBytes = Number.POSITIVE_INFINITY) {
    this.#capacity = capacity
    this.#maxBytes = maxBytes
  }

  /** How many messages are held. */
  get size(): number {
    return this.#texts.length - this.#head
  }

  /** UTF-8 bytes of the frames held. */
  get bytes(): number {
    return this.#bytes
  }

  /**
   * Append the frame of message `seq` (the one after the last pushed); the oldest leave while the ring is over
   * its count or bytes. Returns the change in bytes held, for a budget over many rings.
   */
  push(seq: number, text: string, id?: string): number {
    const before = this.#bytes
    if (this.size > 0 && seq !== this.#lastSeq + 1) this.clear()
    this.#lastSeq = seq
    if (this.#capacity === 0) return 0
    const size = Buffer.byteLength(text)
    if (size > this.#maxBytes) {
      // Not held, and then nothing older may be either: what is held must end at the last seq.
      this.clear()
      return -before
    }
    if (id !== undefined && this.#idOf === undefined) {
      this.#idOf = new Array<string | undefined>(this.#texts.length).fill(undefined)
    }
    this.#texts.push(text)
    this.#sizes.push(size)
    this.#idOf?.push(id)
    this.#bytes += size
    if (id !== undefined) {
      this.#ids ??= new Map()
      this.#ids.set(id, seq)
    }
    while (this.size > this.#capacity || this.#bytes > this.#maxBytes) this.dropOldest()
    return this.#bytes - before
  }

  /** Drop the oldest message; returns its bytes (0 when the ring is empty). */
  dropOldest(): number {
    if (this.size === 0) return 0
    const i = this.#head
    const size = this.#sizes[i]!
    const id = this.#idOf?.[i]
    if (id !== undefined && this.#ids?.get(id) === this.#lastSeq - this.size + 1) this.#ids.delete(id)
    this.#texts[i] = ''
    if (this.#idOf !== undefined) this.#idOf[i] = undefined
    this.#head++
    this.#bytes -= size
    if (this.#head === this.#texts.length) this.#reset()
    else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#texts.length) this.#compact()
    return size
  }

  /** Drop every message; returns the bytes freed. */
  clear(): number {
    const freed = this.#bytes
    this.#reset()
    this.#ids = undefined
    this.#idOf = undefined
    return freed
  }

  /** The seq of a held message with this id, if any. */
  seqOfId(id: string): number | undefined {
    return this.#ids?.get(id)
  }

  /** The frames of the last `count` messages held, oldest first. */
  last(count: number): string[] {
    const n = Math.max(0, Math.min(count, this.size))
    return this.#texts.slice(this.#texts.length - n)
  }

  /** The frames of every held message with a seq above `seq`, oldest first. */
  after(seq: number): string[] {
    return this.last(this.#lastSeq - seq)
  }

  /**
   * A page of held frames older than `before` (absent: the newest), at most `limit` of them, oldest first;
   * `more` when older ones are still held.
   */
  before(before: number | undefined, limit: number): { frames: string[]; more: boolean } {
    const first = this.#lastSeq - this.size + 1
    const top = Math.min(before === undefined ? this.#lastSeq : before - 1, this.#lastSeq)
    if (this.size === 0 || top < first || limit < 1) return { frames: [], more: false }
    const count = Math.min(limit, top - first + 1)
    const start = this.#head + (top - count + 1 - first)
    return { frames: this.#texts.slice(start, start + count), more: top - count + 1 > first }
  }

  /**
   * Every frame after `since`, given that the room's latest seq is `latest`; `recovered: false` when some of
   * them are no longer held, or `since` is ahead of the room.
   */
  since(since: number, latest: number): SinceResult {
    if (since > latest) return { recovered: false }
    const missing = latest - since
    if (missing > this.size) return { recovered: false }
    return { recovered: true, frames: this.last(missing) }
  }

  #reset(): void {
    this.#texts = []
    this.#sizes = []
    if (this.#idOf !== undefined) this.#idOf = []
    this.#head = 0
    this.#bytes = 0
  }

  // Moves the held slots to the front in place: amortized one copy per message, and no new arrays.
  #compact(): void {
    const head = this.#head
    const keep = this.#texts.length - head
    this.#texts.copyWithin(0, head)
    this.#texts.length = keep
    this.#sizes.copyWithin(0, head)
    this.#sizes.length = keep
    if (this.#idOf !== undefined) {
      this.#idOf.copyWithin(0, head)
      this.#idOf.length = keep
    }
    this.#head = 0
  }
}
