import type { Member } from '@roomwire/protocol'
import type { AdapterNode, RoomBroadcast } from '../adapter'

/** A frame off a room channel: who to skip, the JSON as it came, and the parsed message. */
export interface Frame {
  skip: string | undefined
  encoded: string
  message: RoomBroadcast
}

/** A join's mark on a room channel (`#token`): delivers nothing, tells the joining node it is caught up. */
export interface Mark {
  mark: string
}

/** What a catch-up read from Redis (the sync script's answer). */
export interface Snapshot {
  /** Empty when the room has no state and this node has no member in it. */
  epoch: string
  seq: number
  /** -1: no `since` was asked; 0: some messages after it are gone; 1: `replay` holds all of them. */
  recovered: -1 | 0 | 1
  members: Member[]
  replay: Frame[]
}

/** Frames a feed holds while it catches up; past this it gives up on replay and sends `reset`. */
const MAX_BUFFERED_FRAMES = 10_000

/** Parse a join's `#mark` or `skip\nframe` as published by the scripts; undefined if malformed. */
export function parseFrame(payload: string): Frame | Mark | undefined {
  if (payload.startsWith('#')) return { mark: payload.slice(1) }
  const cut = payload.indexOf('\n')
  if (cut === -1) return undefined
  const encoded = payload.slice(cut + 1)
  try {
    const message = JSON.parse(encoded) as RoomBroadcast
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return undefined
    return { skip: cut === 0 ? undefined : payload.slice(0, cut), encoded, message }
  } catch {
    return undefined
  }
}

/**
 * This node's view of one room it has local members in: the frames it forwards to `deliver`, in seq
 * order and once each. It tracks the room's epoch and last seq; a gap in seq, a lost subscription or a
 * lost store makes it buffer live frames while the adapter reads what was missed (a catch-up), then
 * replay the missed messages or, when they are gone, send `reset`. Membership seen by the local members
 * is tracked too, so a catch-up can announce the joins and leaves they missed.
 */
export class RoomFeed {
  readonly room: string
  readonly channel: string
  /** This node's members of the room, with their latest presence. */
  readonly members = new Map<string, Member>()
  /** Joins in flight on this node. */
  joining = 0
  /** Resolves once this node's subscriber receives the room's channel. */
  subscribed: Promise<unknown> | undefined
  #epoch: string | undefined
  #lastSeq: number | undefined
  #floor: number | undefined
  #view: Map<string, Member> | undefined
  #buffer: (Frame | Mark)[] | undefined
  readonly #marks = new Map<string, () => void>()
  #overflow = false
  readonly #node: AdapterNode
  readonly #needCatchUp: (feed: RoomFeed) => void

  constructor(room: string, channel: string, node: AdapterNode, needCatchUp: (feed: RoomFeed) => void) {
    this.room = room
    this.channel = channel
    this.#node = node
    this.#needCatchUp = needCatchUp
  }

  /** Whether the feed holds no member and no join, so its subscription can go. */
  get idle(): boolean {
    return this.members.size === 0 && this.joining === 0
  }

  /** Whether live frames are held back until a catch-up completes. */
  get catchingUp(): boolean {
    return this.#buffer !== undefined
  }

  /** What a catch-up asks Redis for: the seq the local members saw last, in its epoch. */
  get position(): { since: number; epoch: string } | undefined {
    const since = this.#lastSeq ?? this.#floor
    if (this.#epoch === undefined || since === undefined) return undefined
    return { since, epoch: this.#epoch }
  }

  /** Hold live frames from now until {@link finishCatchUp} (the subscription dropped, or a gap). */
  suspend(): void {
    this.#buffer ??= []
  }

  /** A frame off the room's channel. */
  receive(frame: Frame | Mark): void {
    if (this.#buffer !== undefined) {
      if (this.#buffer.length >= MAX_BUFFERED_FRAMES) {
        this.#overflow = true
        this.#buffer = []
      }
      this.#buffer.push(frame)
      return
    }
    this.#apply(frame)
  }

  /**
   * Resolve once the mark a join script published reaches this feed: every frame that script saw
   * published before it has then been delivered here, so the joiner's `joined.seq` is behind nothing
   * still in flight (the node sends it only later frames). Rejects after `timeoutMs`.
   */
  waitMark(mark: string, timeoutMs: number): { promise: Promise<void>; cancel: () => void } {
    let cancel = () => {}
    const promise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#marks.delete(mark)
        reject(new Error(`the room's channel did not deliver the join's mark within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      this.#marks.set(mark, () => {
        clearTimeout(timer)
        resolve()
      })
      cancel = () => {
        clearTimeout(timer)
        this.#marks.delete(mark)
      }
    })
    return { promise, cancel }
  }

  /** A join of this node answered: learn the room's epoch, seq and members if this is the first. */
  joined(epoch: string, seq: number, members: readonly Member[]): void {
    if (this.#buffer !== undefined) return
    if (this.#epoch !== undefined && this.#epoch !== epoch) {
      // The store lost the room and this join started a new epoch: the members here saw the old one.
      this.#reset(epoch, seq)
      return
    }
    this.#epoch = epoch
    // The last seq only ever follows frames: a join's answer can overtake frames still in flight to this
    // node, which the members already here must still get. Until a frame arrives, the lowest joined seq
    // is where a catch-up would start.
    if (this.#lastSeq === undefined) this.#floor = Math.min(this.#floor ?? seq, seq)
    this.#view ??= new Map(members.map((member) => [member.id, member]))
  }

  /** A catch-up read: replay what was missed (or `reset`), announce membership changes, then go live. */
  finishCatchUp(snapshot: Snapshot): void {
    const buffered = this.#buffer ?? []
    this.#buffer = undefined
    if (snapshot.epoch === '') {
      this.#epoch = undefined
      this.#lastSeq = undefined
      this.#floor = undefined
    } else if (
      this.#epoch !== undefined &&
      (this.#epoch !== snapshot.epoch || snapshot.recovered !== 1 || this.#overflow)
    ) {
      this.#reset(snapshot.epoch, snapshot.seq)
    } else {
      this.#epoch = snapshot.epoch
      this.#lastSeq ??= this.#floor
      for (const frame of snapshot.replay) this.#apply(frame)
      this.#lastSeq = Math.max(this.#lastSeq ?? snapshot.seq, snapshot.seq)
    }
    this.#overflow = false
    this.#diffMembers(snapshot.members)
    for (const frame of buffered) this.#apply(frame)
  }

  #deliver(message: RoomBroadcast, skip?: string, encoded?: string): void {
    const options: { skip?: string; encoded?: string } = {}
    if (skip !== undefined) options.skip = skip
    if (encoded !== undefined) options.encoded = encoded
    this.#node.deliver(this.room, message, options)
  }

  #reset(epoch: string, seq: number): void {
    this.#epoch = epoch
    this.#lastSeq = seq
    this.#floor = undefined
    this.#deliver({ type: 'reset', room: this.room, epoch, seq })
  }

  #apply(frame: Frame | Mark): void {
    if ('mark' in frame) {
      const resolve = this.#marks.get(frame.mark)
      this.#marks.delete(frame.mark)
      resolve?.()
      return
    }
    const { message } = frame
    switch (message.type) {
      case 'reset': {
        if (this.#epoch === message.epoch) return
        if (this.#epoch === undefined) {
          // A room created by a join of this node: nothing to tell anyone.
          this.#epoch = message.epoch
          return
        }
        this.#reset(message.epoch, message.seq)
        // The store lost the room, so it lost this node's members too: register them again.
        this.suspend()
        this.#needCatchUp(this)
        return
      }
      case 'message': {
        const last = this.#lastSeq
        if (last !== undefined) {
          if (message.seq <= last) return
          if (message.seq > last + 1) {
            // A frame was lost (the subscription dropped for a moment): read the gap from the history.
            this.suspend()
            this.#buffer!.push(frame)
            this.#needCatchUp(this)
            return
          }
        }
        this.#lastSeq = message.seq
        break
      }
      case 'member_joined':
        this.#view?.set(message.member.id, message.member)
        break
      case 'member_left':
        this.#view?.delete(message.id)
        break
      case 'presence': {
        const member = this.#view?.get(message.id)
        if (member !== undefined) this.#view!.set(message.id, { ...member, presence: message.state })
        break
      }
    }
    this.#deliver(message, frame.skip, frame.encoded)
  }

  #diffMembers(members: readonly Member[]): void {
    const view = this.#view
    const now = new Map(members.map((member) => [member.id, member]))
    this.#view = now
    if (view === undefined) return
    for (const id of view.keys()) {
      if (!now.has(id)) this.#deliver({ type: 'member_left', room: this.room, id })
    }
    for (const [id, member] of now) {
      const before = view.get(id)
      if (before === undefined) {
        // The sync script announces this node's own members itself, on the channel.
        if (this.members.has(id)) continue
        this.#deliver({ type: 'member_joined', room: this.room, member }, id)
      } else if (JSON.stringify(before.presence) !== JSON.stringify(member.presence)) {
        this.#deliver({ type: 'presence', room: this.room, id, state: member.presence }, id)
      }
    }
  }
}
