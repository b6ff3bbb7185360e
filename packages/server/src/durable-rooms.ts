import { encode, type RoomEventMessage } from '@roomwire/protocol'
import type { PublishInput, PublishResult } from './adapter'
import { RoomServerError } from './errors'
import type { HistoryStore, StoreRefusal } from './history-store'
import { messageFrame } from './message-frame'

/** A stored message frame with what a ring needs to hold it. */
export interface StoredFrame {
  seq: number
  text: string
  id: string | undefined
}

/** Where a room not held in memory starts when the store has it: its epoch, seq and newest frames. */
export interface StoredRoom {
  epoch: string
  seq: number
  /** Oldest first, ending at `seq`. */
  frames: StoredFrame[]
}

/** What the durable publish path keeps of one room, beside the adapter's own state. */
export interface DurableTrack {
  /** The last seq delivered to this node's members (and kept in the ring). */
  delivered: number
  /** Committed messages waiting for an earlier seq's commit, by seq. */
  readonly ready: Map<number, () => void>
  /** Publishes with an id being committed: their seq once committed, undefined if refused. */
  readonly pendingIds: Map<string, Promise<number | undefined>>
  /** A commit was refused: the next publish first asks the store where the room stands. */
  stale: boolean
  refreshing: Promise<void> | undefined
}

/** The part of an adapter's room state the durable path reads and writes. */
export interface DurableRoom {
  seq: number
  readonly epoch: string
  readonly durable: DurableTrack
}

/** What the durable path needs from its adapter. */
export interface DurableHost {
  /** Keep a committed message in the room's ring and deliver it to this node's members, in seq order. */
  deliver(room: string, state: DurableRoom, message: RoomEventMessage, encoded: string, skip?: string): void
  /** The seq of a message id the room's ring still holds. */
  heldId(state: DurableRoom, id: string): number | undefined
}

/** A fresh {@link DurableTrack} for a room whose last delivered seq is `seq`. */
export function durableTrack(seq: number): DurableTrack {
  return { delivered: seq, ready: new Map(), pendingIds: new Map(), stale: false, refreshing: undefined }
}

function unavailable(what: string, refusal: StoreRefusal): RoomServerError {
  return new RoomServerError(
    'unavailable',
    `${what} refused: the history store is unavailable (${refusal.message}); retry shortly`,
  )
}

function parseFrame(text: string): StoredFrame {
  const message = JSON.parse(text) as RoomEventMessage
  return { seq: message.seq, text, id: message.id }
}

/**
 * A node's rooms kept in a {@link HistoryStore} (issue 18): a room not held in memory starts where the
 * store has it (same epoch, same seq, its newest messages in the ring), so a restarted server continues
 * every room; a publish is delivered, and so acknowledged, only after the store committed it; dedupe by
 * message id asks the store as well as the ring.
 *
 * Seqs are taken in order and appended in that order, and the store commits them in that order, refusing
 * everything behind a failed commit; a refused publish gives its seq back and marks the room stale, and
 * the next publish first reads the store's head (a commit whose answer was lost may have landed: those
 * messages are delivered then, so members miss nothing the store has).
 */
export class DurableRooms {
  readonly store: HistoryStore
  readonly #host: DurableHost
  readonly #loading = new Map<string, Promise<StoredRoom | null>>()

  constructor(store: HistoryStore, host: DurableHost) {
    this.store = store
    this.#host = host
  }

  /** A room's start from the store (null: it has none); one read for concurrent callers. */
  load(room: string, historySize: number): Promise<StoredRoom | null> {
    let loading = this.#loading.get(room)
    if (loading === undefined) {
      loading = this.#read(room, historySize).finally(() => this.#loading.delete(room))
      this.#loading.set(room, loading)
    }
    return loading
  }

  async #read(room: string, historySize: number): Promise<StoredRoom | null> {
    const head = await this.store.head(room)
    if (!head.ok) throw unavailable('the room', head)
    if (head.head === null) return null
    const { epoch, seq } = head.head
    if (historySize === 0) return { epoch, seq, frames: [] }
    const page = await this.store.page(room, { epoch, before: seq + 1, limit: historySize })
    if (!page.ok) throw unavailable('the room', page)
    const frames = page.frames.map(parseFrame)
    // What a ring holds must end at the room's seq without a gap.
    const gapless = frames.length === 0 || frames[frames.length - 1]!.seq === seq
    return { epoch, seq, frames: gapless ? frames : [] }
  }

  /** Publish `input` to `room` through the store; see the class. Throws `unavailable` when refused. */
  async publish(room: string, state: DurableRoom, input: PublishInput): Promise<PublishResult> {
    const track = state.durable
    if (track.stale) await this.#refresh(room, state)
    if (input.id !== undefined) {
      const original = await this.#original(room, state, input.id)
      if (original !== undefined) return { seq: original, epoch: state.epoch, duplicate: true }
      // Another publish of the same id may have started while this one asked the store.
      const racing = this.#host.heldId(state, input.id) ?? (await track.pendingIds.get(input.id))
      if (racing !== undefined) return { seq: racing, epoch: state.epoch, duplicate: true }
    }
    if (track.stale) await this.#refresh(room, state)
    const seq = ++state.seq
    const message = messageFrame(room, input, seq)
    const encoded = encode(message)
    let settleId: ((seq: number | undefined) => void) | undefined
    if (input.id !== undefined) {
      track.pendingIds.set(input.id, new Promise((resolve) => (settleId = resolve)))
    }
    // Built field by field: a rest and a spread made two copies of the frame on every publish (issue 18).
    const outcome = await this.store.append({
      room,
      epoch: state.epoch,
      seq,
      event: message.event,
      data: message.data,
      from: message.from,
      user: message.user,
      id: message.id,
      ts: message.ts,
    })
    if (input.id !== undefined) track.pendingIds.delete(input.id)
    settleId?.(outcome.ok ? seq : undefined)
    if (!outcome.ok) {
      // Every later seq is refused with it; the store may still have this one (see the class).
      state.seq = Math.min(state.seq, seq - 1)
      track.stale = true
      throw unavailable('publish', outcome)
    }
    if (seq === track.delivered + 1) {
      // The usual case (issue 18: on every publish): nothing earlier is still being committed, so no
      // promise, closure or map entry to wait for a turn; later seqs that committed first go after it.
      track.delivered = seq
      this.#host.deliver(room, state, message, encoded, input.skip)
      this.#deliverReady(track)
      return { seq, epoch: state.epoch, duplicate: false }
    }
    await new Promise<void>((delivered) => {
      track.ready.set(seq, () => {
        this.#host.deliver(room, state, message, encoded, input.skip)
        delivered()
      })
      this.#deliverReady(track)
    })
    return { seq, epoch: state.epoch, duplicate: false }
  }

  /** Older messages of the room's epoch from the store, newest last. */
  async page(room: string, epoch: string, before: number | undefined, limit: number) {
    const page = await this.store.page(
      room,
      before === undefined ? { epoch, limit } : { epoch, before, limit },
    )
    if (!page.ok) throw unavailable('history', page)
    return { epoch, frames: page.frames, more: page.more }
  }

  async #original(room: string, state: DurableRoom, id: string): Promise<number | undefined> {
    const held = this.#host.heldId(state, id) ?? (await state.durable.pendingIds.get(id))
    if (held !== undefined) return held
    const found = await this.store.findId(room, id)
    if (!found.ok) throw unavailable('publish', found)
    return found.found !== null && found.found.epoch === state.epoch ? found.found.seq : undefined
  }

  #deliverReady(track: DurableTrack): void {
    for (let next = track.ready.get(track.delivered + 1); next !== undefined; ) {
      track.ready.delete(track.delivered + 1)
      track.delivered++
      next()
      next = track.ready.get(track.delivered + 1)
    }
  }

  /** Where the room stands in the store after a refused commit; delivers what landed unanswered. */
  #refresh(room: string, state: DurableRoom): Promise<void> {
    const track = state.durable
    track.refreshing ??= (async () => {
      try {
        const head = await this.store.head(room)
        if (!head.ok) throw unavailable('publish', head)
        const stored = head.head !== null && head.head.epoch === state.epoch ? head.head.seq : 0
        if (stored > track.delivered) {
          const missing = stored - track.delivered
          const page = await this.store.page(room, { epoch: state.epoch, before: stored + 1, limit: missing })
          if (!page.ok) throw unavailable('publish', page)
          for (const text of page.frames) {
            const message = JSON.parse(text) as RoomEventMessage
            if (message.seq !== track.delivered + 1) continue
            // A publisher still waiting for its turn delivers its own message; the rest come from the store.
            const waiting = track.ready.get(message.seq)
            track.ready.delete(message.seq)
            track.delivered = message.seq
            if (waiting !== undefined) waiting()
            else this.#host.deliver(room, state, message, text)
          }
          this.#deliverReady(track)
        }
        state.seq = Math.max(track.delivered, stored)
        track.stale = false
      } finally {
        track.refreshing = undefined
      }
    })()
    return track.refreshing
  }
}
