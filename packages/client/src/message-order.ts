import type { MessageMeta } from './types'

/** A message on its way to handlers: from the wire, or synthesized from the ack of an own publish. */
export interface Arrival {
  readonly event: string
  readonly data: unknown
  readonly meta: MessageMeta
  /** Deliver to `room.on(event)` handlers too (not for own publishes the server did not echo). */
  readonly toHandlers: boolean
}

/**
 * Delivery of one room's messages in `seq` order, once. It tracks the last `seq` delivered, drops
 * anything at or below it (replays after a rejoin, echoes of acked publishes), and holds messages back
 * while a gap may still be filled by an own publish in flight.
 */
export class MessageOrder {
  /** The last `seq` delivered (0 before any). */
  seq = 0
  /** Messages that arrived after a gap an own publish in flight may fill (see `arrive`). */
  #held: Arrival[] = []
  readonly #deliver: (arrival: Arrival) => void
  readonly #ownInFlight: () => boolean

  /**
   * `deliver` runs for each message in order, after `seq` moved to it; `ownInFlight` tells whether an
   * own publish without echo waits for its ack (its `seq` is known only then).
   */
  constructor(deliver: (arrival: Arrival) => void, ownInFlight: () => boolean) {
    this.#deliver = deliver
    this.#ownInFlight = ownInFlight
  }

  /** Forget held messages: after a disconnect the rejoin replays them, after a reset they are void. */
  clear(): void {
    this.#held = []
  }

  /** Deliver in `seq` order, once. Anything at or below the last seen `seq` is a duplicate. */
  arrive(arrival: Arrival): void {
    const seq = arrival.meta.seq
    if (seq <= this.seq) return
    // A gap while an own publish without echo is in flight is probably that publish: its seq comes with
    // the ack (possibly after later messages, with a store that allocates seq asynchronously). Hold on.
    if (seq > this.seq + 1 && this.#ownInFlight()) {
      if (!this.#held.some((held) => held.meta.seq === seq)) {
        this.#held.push(arrival)
        this.#held.sort((a, b) => a.meta.seq - b.meta.seq)
      }
      return
    }
    this.#emit(arrival)
    this.drain()
  }

  /** Deliver held messages whose turn has come: the gap closed, or no own publish can fill it any more. */
  drain(): void {
    while (this.#held.length > 0) {
      const next = this.#held[0]!
      if (next.meta.seq <= this.seq) {
        this.#held.shift()
        continue
      }
      if (next.meta.seq !== this.seq + 1 && this.#ownInFlight()) return
      this.#held.shift()
      this.#emit(next)
    }
  }

  #emit(arrival: Arrival): void {
    this.seq = arrival.meta.seq
    this.#deliver(arrival)
  }
}
