import type { RoomHead, StoreRefusal, UnsequencedMessage } from '../history-store'

/** How an {@link HistoryStore.appendNext} ended: the epoch and seq the message was committed at. */
export type SequenceOutcome = ({ ok: true } & RoomHead) | StoreRefusal

/** One message waiting for its room's next statement. */
export interface SequenceItem {
  readonly message: UnsequencedMessage
  /** `data` as JSON text. */
  readonly data: string
  readonly fallback: RoomHead
  readonly bytes: number
  readonly outcome: Promise<SequenceOutcome>
  settle(outcome: SequenceOutcome): void
}

/**
 * What writing one room's batch gave: the seqs its rows got (ascending, one per item, in item order) and
 * their epoch; `raced` when another writer committed the same seqs first (nothing was written: try again
 * at the new head); or why nothing was written.
 */
export type SequenceWrite =
  | { ok: true; epoch: string; seqs: number[] }
  | { ok: false; code: 'raced' }
  | StoreRefusal

/** Limits of a {@link RoomSequencer}. */
export interface SequencerOptions {
  maxRows: number
  maxBytes: number
  /** Tries of a batch that keeps losing the race for its seqs before it is refused `unavailable`. */
  maxRaces: number
}

/** Make an item whose `outcome` settles once, through `settle`. */
export function sequenceItem(message: UnsequencedMessage, data: string, fallback: RoomHead): SequenceItem {
  let settle!: (outcome: SequenceOutcome) => void
  const outcome = new Promise<SequenceOutcome>((resolve) => {
    settle = resolve
  })
  const bytes = data.length + message.room.length + message.event.length + 128
  return { message, data, fallback, bytes, outcome, settle }
}

/**
 * Gathers each room's {@link HistoryStore.appendNext} calls into one statement at a time per room: the
 * statement takes the seqs after the room's newest row and inserts the whole batch, or nothing when
 * another writer (another node) took one of those seqs first (the primary key refuses it; the batch is
 * written again at the new head). So seqs are given in commit order, without a gap and never twice, and a
 * node's messages of one room keep the order they were appended in.
 */
export class RoomSequencer {
  readonly #write: (room: string, batch: SequenceItem[]) => Promise<SequenceWrite>
  readonly #options: SequencerOptions
  readonly #schedule: (flush: () => void) => void
  readonly #queued = new Map<string, SequenceItem[]>()
  readonly #inFlight = new Map<string, SequenceItem[]>()
  #pending = 0
  #idle: (() => void)[] = []

  constructor(
    write: (room: string, batch: SequenceItem[]) => Promise<SequenceWrite>,
    options: SequencerOptions,
    schedule: (flush: () => void) => void,
  ) {
    this.#write = write
    this.#options = options
    this.#schedule = schedule
  }

  /** Appends queued or being written. */
  get pending(): number {
    return this.#pending
  }

  push(item: SequenceItem): void {
    const room = item.message.room
    let queue = this.#queued.get(room)
    if (queue === undefined) {
      queue = []
      this.#queued.set(room, queue)
    }
    queue.push(item)
    this.#pending++
    if (queue.length === 1 && !this.#inFlight.has(room)) this.#schedule(() => void this.#flush(room))
  }

  /** A queued or in-flight append of this room with this message id, if any. */
  find(room: string, id: string): SequenceItem | undefined {
    const match = (item: SequenceItem) => item.message.id === id
    return this.#inFlight.get(room)?.find(match) ?? this.#queued.get(room)?.find(match)
  }

  /** Resolves once nothing is queued or being written. */
  whenIdle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async #flush(room: string): Promise<void> {
    const queue = this.#queued.get(room)
    if (queue === undefined || this.#inFlight.has(room)) return
    const { maxRows, maxBytes, maxRaces } = this.#options
    let count = 0
    let bytes = 0
    while (count < queue.length && count < maxRows) {
      const size = queue[count]!.bytes
      if (count > 0 && bytes + size > maxBytes) break
      bytes += size
      count++
    }
    const batch = queue.splice(0, count)
    if (queue.length === 0) this.#queued.delete(room)
    this.#inFlight.set(room, batch)
    let result: SequenceWrite = { ok: false, code: 'raced' }
    for (let tries = 0; tries < maxRaces && !result.ok && result.code === 'raced'; tries++) {
      result = await this.#write(room, batch)
    }
    this.#inFlight.delete(room)
    this.#pending -= batch.length
    batch.forEach((item, i) => {
      if (result.ok) item.settle({ ok: true, epoch: result.epoch, seq: result.seqs[i]! })
      else if (result.code === 'raced') {
        item.settle({ ok: false, code: 'unavailable', message: `room ${room} is contended; retry shortly` })
      } else item.settle(result)
    })
    if (this.#queued.has(room)) this.#schedule(() => void this.#flush(room))
    if (this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve()
  }
}
