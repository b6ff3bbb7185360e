import type { Member } from '@roomwire/protocol'
import type { AdapterNode, RoomBroadcast } from '../adapter'
import type { Clock, TimerHandle } from '../clock'
import type { Frame, Mark } from './frames'
import { MemberView } from './member-view'
import { PendingMembers } from './pending-members'
import type { Position, Snapshot } from './script-shared'

/** Frames a feed holds while it catches up; past this it drops them and catches up once more. */
const MAX_BUFFERED_FRAMES = 10_000

interface Waiter {
  epoch: string
  seq: number
  resolve: (delivered: boolean) => void
  timer: TimerHandle
}

/**
 * This node's view of one room it has local members in: the frames it forwards to `deliver`, in seq
 * order and once each. It tracks the room's epoch and last seq; a gap in seq, a lost subscription or a
 * lost store makes it buffer live frames while the adapter reads what was missed (a catch-up), then
 * replay the missed messages, with a `reset` first when the epoch changed. Membership seen by the local
 * members is tracked too, so a catch-up can announce the joins and leaves they missed.
 */
export class RoomFeed {
  readonly room: string
  readonly channel: string
  /** This node's members of the room, with their latest presence. */
  readonly members = new Map<string, Member>()
  /** Members whose join is in flight on this node (a catch-up must not remove them from Redis). */
  readonly pending = new PendingMembers()
  /** Resolves once this node's subscriber receives the room's channel; reset when the link drops. */
  subscribed: Promise<unknown> | undefined
  #epoch: string | undefined
  #lastSeq: number | undefined
  #floor: number | undefined
  readonly #view = new MemberView()
  /**
   * While a catch-up is due or running: the live frames held back until it completes, and whether some
   * were dropped (then one more catch-up reads them). Undefined while the feed is live.
   */
  #held: { frames: (Frame | Mark)[]; overflowed: boolean; superseded: number } | undefined
  readonly #marks = new Map<string, () => void>()
  #waiters: Waiter[] = []
  readonly #node: AdapterNode
  readonly #needCatchUp: (feed: RoomFeed) => void
  /** Times the waits for a mark and for a delivery out (the system clock's timers are unref'd). */
  readonly #clock: Clock

  constructor(
    room: string,
    channel: string,
    node: AdapterNode,
    needCatchUp: (feed: RoomFeed) => void,
    clock: Clock,
  ) {
    this.room = room
    this.channel = channel
    this.#node = node
    this.#needCatchUp = needCatchUp
    this.#clock = clock
  }

  /** Whether the feed holds no member and no join, so its subscription can go. */
  get idle(): boolean {
    return this.members.size === 0 && this.pending.size === 0
  }

  /** Whether live frames are held back until a catch-up completes. */
  get catchingUp(): boolean {
    return this.#held !== undefined
  }

  /** The members this node stands for in Redis: the joined ones, and those whose join is in flight. */
  *local(): Iterable<Member> {
    yield* this.members.values()
    for (const member of this.pending.standing()) if (!this.members.has(member.id)) yield member
  }

  /** A member left: this node stands for it no more, nor for its join in flight (pending-members.ts). */
  leave(id: string): void {
    this.members.delete(id)
    this.pending.depart(id)
  }

  /** What a catch-up asks Redis for: the seq the local members saw last, in its epoch. */
  get position(): Position | undefined {
    const since = this.#lastSeq ?? this.#floor
    if (this.#epoch === undefined || since === undefined) return undefined
    return { since, epoch: this.#epoch }
  }

  /** Hold live frames from now until {@link finishCatchUp} (the subscription dropped, or a gap). */
  suspend(): void {
    this.#held ??= { frames: [], overflowed: false, superseded: 0 }
  }

  /**
   * The link to Redis went down: hold live frames, and take the ones held so far as superseded by the
   * catch-up, which reads Redis only after the link is back, so after every one of them was published.
   * Applied after it they would repeat what it already counted, from a store that may be gone: messages
   * of an epoch that Redis lost, delivered as the new epoch's (issue 13, case 4), and joins of members
   * that went with it.
   */
  linkLost(): void {
    this.suspend()
    this.#held!.superseded = this.#held!.frames.length
  }

  /** A frame off the room's channel. */
  receive(frame: Frame | Mark): void {
    const held = this.#held
    if (held !== undefined) {
      if (held.frames.length >= MAX_BUFFERED_FRAMES) {
        // Dropped frames are read again by one more catch-up once this one is done.
        held.overflowed = true
        held.frames = held.frames.filter((f) => 'mark' in f)
        held.superseded = 0
      }
      held.frames.push(frame)
      return
    }
    this.#apply(frame)
    this.#settle()
  }

  /**
   * Resolve once the mark a join script published reaches this feed: every frame that script saw
   * published before it has then been delivered here, so the joiner's `joined.seq` is behind nothing
   * still in flight (the node sends it only later frames). Rejects after `timeoutMs`.
   */
  waitMark(mark: string, timeoutMs: number): { promise: Promise<void>; cancel: () => void } {
    let cancel = () => {}
    const promise = new Promise<void>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#marks.delete(mark)
        reject(new Error(`the room's channel did not deliver the join's mark within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#marks.set(mark, () => {
        this.#clock.clearTimeout(timer)
        resolve()
      })
      cancel = () => {
        this.#clock.clearTimeout(timer)
        this.#marks.delete(mark)
      }
    })
    return { promise, cancel }
  }

  /**
   * Resolve true once this feed has delivered message `seq` of `epoch` (and so every one before it), or
   * false after `timeoutMs`. A publish's ack waits for it (PROTOCOL.md, `ack`).
   */
  delivered(epoch: string, seq: number, timeoutMs: number): Promise<boolean> {
    if (this.#reached(epoch, seq)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter: Waiter = {
        epoch,
        seq,
        resolve,
        timer: this.#clock.setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          resolve(false)
        }, timeoutMs),
      }
      this.#waiters.push(waiter)
    })
  }

  /** The feed is let go (no local member is left): nothing waits for it any more. */
  release(): void {
    for (const waiter of this.#waiters.splice(0)) {
      this.#clock.clearTimeout(waiter.timer)
      waiter.resolve(true)
    }
  }

  /**
   * A join of this node answered (its script published `mark`, which this feed has seen): learn the room's
   * epoch, seq and members if this is the first.
   */
  joined(epoch: string, seq: number, members: readonly Member[], mark: string): void {
    if (this.#held !== undefined) return
    if (this.#epoch !== undefined && this.#epoch !== epoch) {
      // The store lost the room and this node missed the reset: a catch-up replays the new epoch.
      this.suspend()
      this.#needCatchUp(this)
      return
    }
    this.#epoch = epoch
    // The last seq only ever follows frames: a join's answer can overtake frames still in flight to this
    // node, which the members already here must still get. Until a frame arrives, the lowest joined seq
    // is where a catch-up would start.
    if (this.#lastSeq === undefined) this.#floor = Math.min(this.#floor ?? seq, seq)
    if (!this.#view.answered(members, mark)) {
      // Membership frames were dropped before this answer: a catch-up reads the members again.
      this.suspend()
      this.#needCatchUp(this)
    }
    this.#settle()
  }

  /**
   * A catch-up read: replay what was missed (after a `reset` when the epoch changed), announce membership
   * changes, then go live. A reset never skips a message still held: it carries the seq before the first
   * replayed one (issue 13: it carried the latest seq, and the new epoch's first messages reached nobody).
   */
  finishCatchUp(snapshot: Snapshot): void {
    const held = this.#held ?? { frames: [], overflowed: false, superseded: 0 }
    this.#held = undefined
    const { overflowed } = held
    // A join still waits for the marks among the superseded frames; nothing else of them counts.
    const buffered = held.frames.filter((frame, i) => i >= held.superseded || 'mark' in frame)
    // The replay ends at the snapshot's seq without gaps: it starts right after `base`.
    const base = snapshot.seq - snapshot.replay.length
    if (snapshot.epoch === '') {
      this.#epoch = undefined
      this.#lastSeq = undefined
      this.#floor = undefined
    } else if (this.#epoch !== undefined && this.#epoch !== snapshot.epoch) {
      this.#reset(snapshot.epoch, base)
    } else {
      this.#epoch = snapshot.epoch
      this.#lastSeq ??= this.#floor
      // Some messages after the position are gone (too old): the members see the gap, and their rejoin
      // with `since` says `recovered: false`. A reset would hide it, and it means a new epoch.
      if (snapshot.recovered === 0 || this.#lastSeq === undefined) this.#lastSeq = base
    }
    for (const frame of snapshot.replay) this.#apply(frame)
    if (this.#epoch !== undefined) this.#lastSeq = Math.max(this.#lastSeq ?? snapshot.seq, snapshot.seq)
    this.#diffMembers(snapshot.members)
    for (const frame of buffered) this.#apply(frame)
    this.#settle()
    if (overflowed && this.#held === undefined) {
      this.suspend()
      this.#needCatchUp(this)
    }
  }

  #reached(epoch: string, seq: number): boolean {
    const at = this.#lastSeq ?? this.#floor
    return this.#epoch === epoch && at !== undefined && at >= seq
  }

  #settle(): void {
    if (this.#waiters.length === 0) return
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!this.#reached(waiter.epoch, waiter.seq)) return true
      this.#clock.clearTimeout(waiter.timer)
      waiter.resolve(true)
      return false
    })
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
      this.#view.mark(frame.mark)
      const resolve = this.#marks.get(frame.mark)
      this.#marks.delete(frame.mark)
      resolve?.()
      return
    }
    const { message } = frame
    switch (message.type) {
      case 'reset': {
        if (this.#epoch === message.epoch) {
          // Redis lost the room and started it again where the history store has it (issue 18): the
          // same epoch, so nothing to tell the members, but Redis lost this node's members of it too.
          if (this.#lastSeq !== undefined || this.#floor !== undefined) {
            this.suspend()
            this.#needCatchUp(this)
          }
          return
        }
        if (this.#epoch === undefined) {
          // A room created by a join of this node: nothing to tell anyone. Frames seen before it (of the
          // epoch it replaced) say nothing about this one.
          this.#epoch = message.epoch
          if (this.#lastSeq !== undefined) this.#lastSeq = message.seq
          return
        }
        // Published when the state was created, before any message of the new epoch: nothing is skipped.
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
            this.#held!.frames.push(frame)
            this.#needCatchUp(this)
            return
          }
        }
        this.#lastSeq = message.seq
        break
      }
      case 'member_joined':
        this.#view.track(message)
        break
      case 'member_left':
        this.#view.track(message)
        if (this.members.has(message.id) || this.pending.has(message.id)) {
          // Removed while this node still stands for it: the reaper took the node for dead (a pause past
          // its key's lifetime). The others are told; the member itself never left, and its return, once
          // the heartbeat finds the lapse and the node registers again, is announced only to the others
          // (issue 13: told it left, it dropped itself from its own member list for good).
          this.#deliver(message, message.id, frame.encoded)
          return
        }
        break
      case 'presence':
        this.#view.track(message)
        break
    }
    this.#deliver(message, frame.skip, frame.encoded)
  }

  #diffMembers(members: readonly Member[]): void {
    for (const { message, skip } of this.#view.replace(this.room, members, this.members)) {
      this.#deliver(message, skip)
    }
  }
}
