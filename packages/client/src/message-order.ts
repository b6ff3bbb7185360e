import { type Clock, cancelTimer, type TimerHandle } from './clock'
import type { MessageMeta } from './room-types'

/** A message on its way to handlers: from the wire, or synthesized from the ack of an own publish. */
export interface Arrival {
  readonly event: string
  readonly data: unknown
  readonly meta: MessageMeta
  /** Deliver to `room.on(event)` handlers too (not for own publishes the server did not echo). */
  readonly toHandlers: boolean
  /** What holding it costs: the frame's length (or the publish frame's bytes for an ack). */
  readonly bytes: number
}

/** The bounds of one room's order. */
export interface OrderConfig {
  readonly clock: Clock
  readonly gapTimeoutMs: number
  readonly maxHeld: number
  readonly maxHeldBytes: number
}

/** What the order asks of its room when a gap does not fill: join again with `since`, or skip it. */
export type GapAction = 'rejoin' | 'give-up'

/**
 * Delivery of one room's messages in `seq` order, once, with no gap (PROTOCOL.md, "What an SDK client
 * does"). It tracks the last `seq` delivered and the highest `seq` known to exist; anything at or below
 * the first is a duplicate. A message past last seen + 1 is held (a Map by `seq`: O(1) to hold and to
 * find the next one, never a sort) and nothing after the gap is delivered until it fills. A gap that
 * stays open for `gapTimeoutMs`, or a full hold, asks the room to join again with `since`; a gap that
 * the rejoin still does not fill within `gapTimeoutMs` is given up: delivery skips to what it holds.
 */
export class MessageOrder {
  /** The last `seq` delivered (0 before any). */
  seq = 0
  /** The highest `seq` known to exist: held, acknowledged, or the `seq` of a `joined`. */
  #known = 0
  readonly #held = new Map<number, Arrival>()
  #heldBytes = 0
  #timer: TimerHandle | null = null
  /** The missing `seq` the running timer waits for. */
  #timerFor = 0
  /** The missing `seq` a rejoin was asked for; 0 while none was. */
  #askedFor = 0
  readonly #config: OrderConfig
  readonly #deliver: (arrival: Arrival) => void
  readonly #onGap: (action: GapAction) => void

  /**
   * `deliver` runs for each message in order, after `seq` moved to it; `onGap` runs when a gap did not
   * fill in time (`rejoin`) or not even after the rejoin (`give-up`, after `seq` skipped past it).
   */
  constructor(config: OrderConfig, deliver: (arrival: Arrival) => void, onGap: (action: GapAction) => void) {
    this.#config = config
    this.#deliver = deliver
    this.#onGap = onGap
  }

  /** How many messages wait behind a gap (for tests and leak checks). */
  get held(): number {
    return this.#held.size
  }

  /**
   * Forget what is held and any gap: after a disconnect the rejoin replays it. After a new epoch
   * (`epochOver`) no seq of the old one says anything: knowing the old seq 5 made the new epoch's 2 to 5
   * look missing, and once given up on, dropped when they came.
   */
  clear(epochOver = false): void {
    this.#held.clear()
    this.#heldBytes = 0
    this.#known = epochOver ? 0 : this.seq
    this.#askedFor = 0
    this.#stopTimer()
  }

  /**
   * A `joined` (or `reset`) set where the room stands: last seen `seq`, and `known`, the latest `seq`
   * the server has. Held messages at or below `seq` are dropped; the rest wait for {@link drain}.
   */
  rebase(seq: number, known: number): void {
    this.seq = seq
    if (known > this.#known) this.#known = known
    if (this.#known < seq) this.#known = seq
    for (const [heldSeq, arrival] of this.#held) {
      if (heldSeq <= seq) this.#unhold(heldSeq, arrival)
    }
    // Give the replay that follows the whole timeout, also when a rejoin for a gap was asked.
    this.#stopTimer()
    this.#watch()
  }

  /** A `seq` exists though its message has not come (the ack of an own publish with echo). */
  expect(seq: number): void {
    if (seq <= this.#known) return
    this.#known = seq
    this.#watch()
  }

  /** Deliver in `seq` order, once; hold what comes after a gap. */
  arrive(arrival: Arrival): void {
    const seq = arrival.meta.seq
    if (seq <= this.seq) return
    if (seq > this.#known) this.#known = seq
    if (seq === this.seq + 1) {
      this.#emit(arrival)
      this.drain()
      return
    }
    if (this.#held.has(seq)) return
    const { maxHeld, maxHeldBytes } = this.#config
    if (this.#held.size >= maxHeld || this.#heldBytes + arrival.bytes > maxHeldBytes) {
      // Not held: the rejoin replays it. Ask once per missing seq, not once per arrival.
      if (this.#askedFor !== this.seq + 1) this.#ask()
      return
    }
    this.#held.set(seq, arrival)
    this.#heldBytes += arrival.bytes
    this.#watch()
  }

  /** Deliver the held messages whose turn has come. */
  drain(): void {
    let next = this.#held.get(this.seq + 1)
    while (next !== undefined) {
      this.#unhold(next.meta.seq, next)
      this.#emit(next)
      next = this.#held.get(this.seq + 1)
    }
    this.#watch()
  }

  #emit(arrival: Arrival): void {
    this.seq = arrival.meta.seq
    this.#deliver(arrival)
  }

  #unhold(seq: number, arrival: Arrival): void {
    this.#held.delete(seq)
    this.#heldBytes -= arrival.bytes
  }

  /** Run the gap timer while a gap is open, restarted for each new missing `seq`. */
  #watch(): void {
    if (this.#known <= this.seq) {
      this.#askedFor = 0
      this.#stopTimer()
      return
    }
    if (this.#timer !== null && this.#timerFor === this.seq + 1) return
    this.#startTimer()
  }

  #startTimer(): void {
    this.#stopTimer()
    this.#timerFor = this.seq + 1
    this.#timer = this.#config.clock.setTimeout(() => {
      this.#timer = null
      if (this.#known <= this.seq) return
      if (this.#askedFor === this.seq + 1) this.#giveUp()
      else this.#ask()
    }, this.#config.gapTimeoutMs)
  }

  #stopTimer(): void {
    this.#timer = cancelTimer(this.#config.clock, this.#timer)
  }

  #ask(): void {
    this.#askedFor = this.seq + 1
    this.#startTimer()
    this.#onGap('rejoin')
  }

  /** Skip to the first message held (or to the latest known `seq`), then deliver from there. */
  #giveUp(): void {
    let next = this.#known + 1
    for (const seq of this.#held.keys()) if (seq < next) next = seq
    this.seq = next - 1
    this.#askedFor = 0
    this.#onGap('give-up')
    this.drain()
  }
}
