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

/** What writing one batch gave: the keys (`room\0seq`) of the rows inserted, or why nothing was. */
export type BatchWrite = { ok: true; inserted: ReadonlySet<string> } | StoreRefusal

/** Limits and scheduling of an {@link AppendBatcher}. */
export interface BatcherOptions {
  /** Rows per statement at most. */
  maxRows: number
  /** Bytes (about) per statement at most; a single larger item still goes alone. */
  maxBytes: number
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
 * Gathers appends into batches, one statement each, with one batch in flight at a time: what arrives while
 * it is written forms the next one, so under load batches grow and commits per message fall (a group
 * commit). One at a time also keeps commits in append order: when a batch fails, it and everything queued
 * behind it are refused together, so a room's stored messages never have a gap that a later commit
 * jumped over.
 */
export class AppendBatcher {
  readonly #write: (batch: AppendItem[]) => Promise<BatchWrite>
  readonly #options: BatcherOptions
  #queue: AppendItem[] = []
  #inFlight: AppendItem[] = []
  #scheduled = false
  #idle: (() => void)[] = []

  constructor(write: (batch: AppendItem[]) => Promise<BatchWrite>, options: BatcherOptions) {
    this.#write = write
    this.#options = options
  }

  /** Appends queued or being written. */
  get pending(): number {
    return this.#queue.length + this.#inFlight.length
  }

  push(item: AppendItem): void {
    this.#queue.push(item)
    this.#kick()
  }

  /** A queued or in-flight append of this room with this message id, if any. */
  find(room: string, id: string): AppendItem | undefined {
    const match = (item: AppendItem) => item.message.room === room && item.message.id === id
    return this.#inFlight.find(match) ?? this.#queue.find(match)
  }

  /** Resolves once nothing is queued or being written. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #kick(): void {
    if (this.#scheduled || this.#inFlight.length > 0 || this.#queue.length === 0) return
    this.#scheduled = true
    this.#options.schedule(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    if (this.#inFlight.length > 0 || this.#queue.length === 0) return
    const { maxRows, maxBytes } = this.#options
    let count = 0
    let bytes = 0
    while (count < this.#queue.length && count < maxRows) {
      const size = this.#queue[count]!.bytes
      if (count > 0 && bytes + size > maxBytes) break
      bytes += size
      count++
    }
    const batch = this.#queue.splice(0, count)
    this.#inFlight = batch
    const result = await this.#write(batch)
    this.#inFlight = []
    if (result.ok) {
      for (const item of batch) {
        const { room, seq } = item.message
        item.settle(
          result.inserted.has(rowKey(room, seq))
            ? { ok: true }
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
