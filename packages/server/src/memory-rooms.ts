import type { Member } from '@roomwire/protocol'
import type { AdapterStats, ReplayRequest } from './adapter'
import type { Clock } from './clock'
import type { DurableTrack } from './durable-rooms'
import { newEpoch } from './epoch'
import { HistoryRing } from './history'
import { type BudgetedHistory, HistoryBudget } from './history-budget'
import { IdleExpiry } from './idle-expiry'
import type { RestoredFrame } from './room-snapshot'

/** One room of the memory adapter. */
export interface MemoryRoom extends BudgetedHistory {
  seq: number
  readonly epoch: string
  readonly history: HistoryRing
  readonly members: Map<string, Member>
  /** When it last became empty (the adapter's clock); meaningful while it is idle. */
  idleSince: number
  /** With a history store: the room's commit order (durable-rooms.ts). */
  durable?: DurableTrack
}

/** What the rooms are bounded by and timed with: the server's limits and the adapter's, fixed at attach. */
export interface MemoryRoomsConfig {
  historySize: number
  historyMaxBytes: number
  idleTimeoutMs: number
  maxHistoryBytes: number
  maxIdleRooms: number
  clock: Clock
}

/** What a join replays, and whether a `since` was met in full. */
export interface Replay {
  frames: string[]
  recovered?: boolean
}

/**
 * The memory adapter's rooms: each room's seq, epoch, members and history; the process's history budget;
 * and the rooms without members, kept for resume within their count and time bounds ({@link IdleExpiry}).
 * The history methods (`replay`, `duplicateOf`, `append`) are the one place a room's history is read or
 * written, so a pluggable history store (issue 18) replaces them and nothing else.
 */
export class MemoryRooms {
  readonly #config: MemoryRoomsConfig
  readonly #rooms = new Map<string, MemoryRoom>()
  readonly #budget: HistoryBudget
  readonly #idle: IdleExpiry<MemoryRoom>

  constructor(config: MemoryRoomsConfig) {
    this.#config = config
    this.#budget = new HistoryBudget(config.maxHistoryBytes)
    this.#idle = new IdleExpiry({
      max: config.maxIdleRooms,
      timeoutMs: config.idleTimeoutMs,
      clock: config.clock,
      free: (room, state) => this.#free(room, state),
    })
  }

  get(room: string): MemoryRoom | undefined {
    return this.#rooms.get(room)
  }

  /** The room's state, made (seq 0 in a new epoch) if it has none; `created` says which. */
  open(room: string): { state: MemoryRoom; created: boolean } {
    const held = this.#rooms.get(room)
    if (held !== undefined) return { state: held, created: false }
    const state = this.#make(newEpoch(), 0, 0)
    this.#rooms.set(room, state)
    return { state, created: true }
  }

  /** Every room, for a snapshot. */
  entries(): IterableIterator<[string, MemoryRoom]> {
    return this.#rooms.entries()
  }

  /** The rooms that have members. */
  occupiedNames(): string[] {
    return [...this.#rooms].filter(([, state]) => state.members.size > 0).map(([name]) => name)
  }

  /** The room has a member again: it is no longer idle. */
  occupied(room: string): void {
    this.#idle.delete(room)
  }

  /** The room has no member (or was made without one): keep it for the idle timeout from now. */
  vacated(room: string, state: MemoryRoom): void {
    state.idleSince = this.#config.clock.now()
    this.#idle.add(room, state)
  }

  /**
   * Bring back a saved room as an idle one, with its history (within this process's budgets) and the rest
   * of its idle timeout. Rooms are restored the one empty longest first.
   */
  restore(
    room: string,
    saved: { epoch: string; seq: number; idleSince: number },
    frames: readonly RestoredFrame[],
  ): void {
    const state = this.#make(saved.epoch, saved.seq, saved.idleSince)
    this.#rooms.set(room, state)
    if (this.#config.historySize > 0) for (const f of frames) this.#budget.push(state, f.seq, f.text, f.id)
    this.#idle.add(room, state)
  }

  /** What a join replays (PROTOCOL.md, "Joining"). */
  replay(state: MemoryRoom, request: ReplayRequest): Replay {
    this.#budget.touch(state)
    if (request.since !== undefined) {
      const sameEpoch = request.epoch === state.epoch
      const result = sameEpoch ? state.history.since(request.since, state.seq) : { recovered: false as const }
      // Otherwise whatever is still held of this epoch: a client back after a lost epoch misses nothing the
      // room has (issue 13).
      const frames = result.recovered ? result.frames : state.history.after(sameEpoch ? request.since : 0)
      return { frames, recovered: result.recovered }
    }
    if (request.history !== undefined && request.history > 0) {
      return { frames: state.history.last(request.history) }
    }
    return { frames: [] }
  }

  /** The seq of the message published with `id`, while the history still holds it. */
  duplicateOf(state: MemoryRoom, id: string): number | undefined {
    return state.history.seqOfId(id)
  }

  /** Whether messages are kept at all (a history size of 0 keeps none, and nothing is encoded for it). */
  get keepsHistory(): boolean {
    return this.#config.historySize > 0
  }

  /** Keep message `seq` (its encoded frame) in the room's history, within the room's and process's bounds. */
  append(state: MemoryRoom, seq: number, encoded: string, id: string | undefined): void {
    this.#budget.push(state, seq, encoded, id)
  }

  stats(): AdapterStats {
    return {
      idleRooms: this.#idle.size,
      historyBytes: this.#budget.bytes,
      idleRoomsEvicted: this.#idle.evicted,
      historyEvicted: this.#budget.evicted,
    }
  }

  /** Free every room and stop the idle timer (the adapter closes). */
  clear(): void {
    this.#idle.stop()
    for (const [room, state] of this.#rooms) this.#free(room, state)
  }

  #make(epoch: string, seq: number, idleSince: number): MemoryRoom {
    const { historySize, historyMaxBytes } = this.#config
    return {
      seq,
      epoch,
      history: new HistoryRing(historySize, historyMaxBytes),
      members: new Map(),
      idleSince,
      older: undefined,
      newer: undefined,
      listed: false,
    }
  }

  #free(room: string, state: MemoryRoom): void {
    this.#rooms.delete(room)
    this.#idle.delete(room)
    this.#budget.release(state)
  }
}
