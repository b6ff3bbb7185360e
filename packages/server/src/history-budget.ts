import type { HistoryRing } from './history'

/** A room's history as {@link HistoryBudget} sees it: its ring and its place in the recently-used order. */
export interface BudgetedHistory {
  readonly history: HistoryRing
  /** Neighbours in the budget's order, kept by the budget; undefined at the ends or when not listed. */
  older: BudgetedHistory | undefined
  newer: BudgetedHistory | undefined
  /** Whether it is in the order (it holds at least one message). */
  listed: boolean
}

/**
 * One byte budget for the histories of every room in a process. Rooms holding messages are kept in
 * least-recently-used order (a list threaded through the rooms themselves: touching one allocates
 * nothing); past the budget, the least recently used rooms lose their oldest messages first. Issue 12: 72,500
 * rooms of 60 KB messages each held their own history until V8 aborted.
 */
export class HistoryBudget {
  readonly #maxBytes: number
  #bytes = 0
  #evicted = 0
  #oldest: BudgetedHistory | undefined
  #newest: BudgetedHistory | undefined

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** Bytes held by every room together. */
  get bytes(): number {
    return this.#bytes
  }

  /** Messages dropped so far to keep within the budget (not those that left by a room's own bounds). */
  get evicted(): number {
    return this.#evicted
  }

  /** Append a message to a room's history (see {@link HistoryRing.push}), then fit the budget. */
  push(room: BudgetedHistory, seq: number, text: string, id?: string): void {
    this.#bytes += room.history.push(seq, text, id)
    this.touch(room)
    while (this.#bytes > this.#maxBytes && this.#oldest !== undefined) {
      const oldest = this.#oldest
      this.#bytes -= oldest.history.dropOldest()
      this.#evicted++
      if (oldest.history.size === 0) this.#unlink(oldest)
    }
  }

  /** The room was used (published to, or joined): it becomes the last to lose messages. */
  touch(room: BudgetedHistory): void {
    if (room.history.size === 0) {
      this.#unlink(room)
      return
    }
    if (this.#newest === room) return
    this.#unlink(room)
    room.older = this.#newest
    if (this.#newest !== undefined) this.#newest.newer = room
    this.#newest = room
    this.#oldest ??= room
    room.listed = true
  }

  /** The room is freed: its messages leave the budget. */
  release(room: BudgetedHistory): void {
    this.#bytes -= room.history.clear()
    this.#unlink(room)
  }

  #unlink(room: BudgetedHistory): void {
    if (!room.listed) return
    if (room.older !== undefined) room.older.newer = room.newer
    else this.#oldest = room.newer
    if (room.newer !== undefined) room.newer.older = room.older
    else this.#newest = room.older
    room.older = undefined
    room.newer = undefined
    room.listed = false
  }
}
