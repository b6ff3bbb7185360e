import type { StoredMessage, StoreRefusal } from '../history-store'

/** How an append ended. */
export type AppendOutcome = { ok: true } | StoreRefusal

/** One append waiting for its batch: the message, its `data` as JSON text, and how to settle it. */
export interface AppendItem {
  readonly message: StoredMessage
  readonly data: string
  /** Bytes the item adds to a statement, about. */
  readonly bytes: number
  readonly outcome: Promise<AppendOutcome>
  settle(outcome: AppendOutcome): void
}

/**
 * What writing one batch gave: the keys (`room\0seq`) of the rows inserted (`all`: every one, the usual
 * case, without a key per row), or why nothing was.
 */
export type BatchWrite = { ok: true; inserted: ReadonlySet<string> | 'all' } | StoreRefusal

/** The outcome of every committed append: one object, not one per message. */
const COMMITTED: AppendOutcome = Object.freeze({ ok: true })

/** Limits and scheduling of an {@link AppendBatcher}. */
export interface BatcherOptions {
  /** Rows per statement at most. */
  maxRows: number
  /** Bytes (about) per statement at most; a single larger item still goes alone. */
  maxBytes: number
  /** Statements being written at once at most; no room is in two of them. */
  maxInFlight: number
  /**
   * Appends that must be waiting before a statement starts beside one in flight: overlapping statements of
   * a row or two costs more per row than the overlap saves (issue 18, measured at twice the server CPU per
   * publish), so a light load still goes one statement at a time, each as large as what has arrived.
   */
  minOverlapRows: number
  /** Run `flush` later: at the end of this event-loop turn, or after a few milliseconds. */
  schedule(flush: () => void): void
}

/** The key of a row in {@link BatchWrite.inserted}. */
export function rowKey(room: string, seq: number): string {
  return `${room}\0${seq}`
}

/** Make an item whose `outcome` promise settles once, through `settle`. */
export function appendItem(message: StoredMessage, data: string): AppendItem {
  let settle!: (outcome: AppendOutcome) => void
  const outcome = new Promise<AppendOutcome>((resolve) => {
    settle = resolve
  })
  const bytes = data.length + message.room.length + message.event.length + 128
  return { message, data, bytes, outcome, settle }
}

/**
 * Gathers appends into batches, one statement each, up to `maxInFlight` of them being written at once:
 * what arrives while they are written forms the next ones, so under load batches grow and commits per
 * message fall (a group commit), while several commits overlap their round trips (issue 18: one batch at a
 * time left an echo load waiting on each commit in turn, at 0.3x of memory's throughput).
 *
 * A room is in one batch in flight at most, and its appends are taken in order: so a room's rows commit in
 * append order. When a batch fails, it and everything queued behind it are refused together, so a room's
 * stored messages never have a gap that a later commit jumped over (a batch of other rooms still in flight
 * commits or fails on its own).
 */
export class AppendBatcher {
  readonly #write: (batch: AppendItem[]) => Promise<BatchWrite>
  readonly #options: BatcherOptions
  #queue: AppendItem[] = []
  readonly #inFlight = new Set<AppendItem[]>()
  /** Rooms with a batch in flight: their queued appends wait for it. */
  readonly #busy = new Set<string>()
  #writing = 0
  #scheduled = false
  #idle: (() => void)[] = []

  constructor(write: (batch: AppendItem[]) => Promise<BatchWrite>, options: BatcherOptions) {
    this.#write = write
    this.#options = options
  }

  /** Appends queued or being written. */
  get pending(): number {
    return this.#queue.length + this.#writing
  }

  push(item: AppendItem): void {
    this.#queue.push(item)
    this.#kick()
  }

  /** A queued or in-flight append of this room with this message id, if any. */
  find(room: string, id: string): AppendItem | undefined {
    const match = (item: AppendItem) => item.message.room === room && item.message.id === id
    for (const batch of this.#inFlight) {
      const found = batch.find(match)
      if (found !== undefined) return found
    }
    return this.#queue.find(match)
  }

  /** Resolves once nothing is queued or being written. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #kick(): void {
    const { maxInFlight, minOverlapRows } = this.#options
    const inFlight = this.#inFlight.size
    if (this.#scheduled || inFlight >= maxInFlight) return
    if (this.#queue.length === 0 || (inFlight > 0 && this.#queue.length < minOverlapRows)) return
    this.#scheduled = true
    this.#options.schedule(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  /** Start as many batches as may be in flight, of the queued appends whose rooms are free. */
  #flush(): void {
    while (this.#inFlight.size < this.#options.maxInFlight) {
      if (this.#inFlight.size > 0 && this.#queue.length < this.#options.minOverlapRows) return
      const batch = this.#take()
      if (batch.length === 0) return
      void this.#run(batch)
    }
  }

  /** Take the next batch off the queue: in queue order, skipping rooms that have a batch in flight. */
  #take(): AppendItem[] {
    const { maxRows, maxBytes } = this.#options
    const batch: AppendItem[] = []
    const rest: AppendItem[] = []
    let bytes = 0
    let full = false
    for (const item of this.#queue) {
      if (full || this.#busy.has(item.message.room)) {
        rest.push(item)
        continue
      }
      if (batch.length > 0 && (batch.length >= maxRows || bytes + item.bytes > maxBytes)) {
        // Full: what is left of this room must not skip ahead into a later batch before this one.
        full = true
        rest.push(item)
        continue
      }
      bytes += item.bytes
      batch.push(item)
    }
    this.#queue = rest
    return batch
  }

  async #run(batch: AppendItem[]): Promise<void> {
    this.#inFlight.add(batch)
    this.#writing += batch.length
    for (const item of batch) this.#busy.add(item.message.room)
    const result = await this.#write(batch)
    this.#inFlight.delete(batch)
    this.#writing -= batch.length
    for (const item of batch) this.#busy.delete(item.message.room)
    if (result.ok) {
      const { inserted } = result
      for (const item of batch) {
        const { room, seq } = item.message
        item.settle(
          inserted === 'all' || inserted.has(rowKey(room, seq))
            ? COMMITTED
            : { ok: false, code: 'conflict', message: `room ${room} already has a message at seq ${seq}` },
        )
      }
    } else {
      const behind = this.#queue
      this.#queue = []
      for (const item of batch) item.settle(result)
      for (const item of behind) item.settle(result)
    }
    if (this.pending === 0) {
      const waiting = this.#idle
      this.#idle = []
      for (const resolve of waiting) resolve()
    }
    this.#kick()
  }
}
