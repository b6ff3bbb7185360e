import type { JoinedMessage, ResetMessage, RoomEventMessage } from '@roomwire/protocol'
import { arrivalOfAck, arrivalOfFrame, roomMessage } from './arrivals'
import type { Emitter } from './emitter'
import { type LogSource, MessageLogImpl } from './message-log'
import { type Arrival, type GapAction, MessageOrder } from './message-order'
import type { PublishEntry } from './outbox'
import { RecentMessages } from './recent-messages'
import { resume } from './resume'
import type { RoomEnv } from './room-env'
import type { ResyncInfo } from './room-types'

/** The `onMessage` channel of a room's emitter (no event name can be it). */
export const MESSAGE = '\u0000message'

/** What the room's messages need from the room: to tell it what moved, and what its logs read and publish. */
export interface RoomMessagesPort extends Omit<LogSource, 'env' | 'epoch' | 'seq'> {
  /** The snapshot's `seq` or `epoch` moved. */
  changed(): void
  /** A gap did not fill in time: join again with `since` (the server replays it). */
  rejoin(): void
}

/**
 * A room's sequence and its application messages on their way to the app: the `epoch` and last seen
 * `seq` (where a rejoin resumes), delivery in `seq` order with no gap ({@link MessageOrder}, of which it
 * is the only user), the resyncs when messages may be gone, then the message logs and the handlers.
 * The room feeds it frames and the acks of own publishes.
 */
export class RoomMessages {
  #epoch: string | null = null
  /** The lowest seq delivered in the current epoch: where `room.history()` pages back from by default. */
  #oldest: number | undefined
  readonly #order: MessageOrder
  /** One log per options for the life of the handle (a Map: event names come from the app). */
  readonly #logs = new Map<string, MessageLogImpl>()
  /** What a log made later starts from (issue 13: a list that mounts after the join shows the replay). */
  readonly #recent: RecentMessages
  readonly #emitter: Emitter
  readonly #listener: RoomMessagesPort
  readonly #source: LogSource

  /** `history` is the first join's: the recent messages kept for logs made later are at least as many. */
  constructor(env: RoomEnv, history: number | undefined, emitter: Emitter, room: RoomMessagesPort) {
    this.#order = new MessageOrder(
      env,
      (arrival) => this.#deliver(arrival),
      (action) => this.#onGap(action),
    )
    this.#recent = new RecentMessages(Math.max(env.recentMessages, history ?? 0))
    this.#emitter = emitter
    this.#listener = room
    this.#source = {
      env,
      pending: room.pending,
      subscribe: room.subscribe,
      publish: room.publish,
      history: room.history,
      epoch: () => this.#epoch,
      seq: () => this.#order.seq,
    }
  }

  /** The epoch `seq` belongs to; null before the first `joined`. */
  get epoch(): string | null {
    return this.#epoch
  }

  /** The last `seq` delivered (0 before any). */
  get seq(): number {
    return this.#order.seq
  }

  /** The `before` of a history page by default: the oldest delivered, else everything seen so far. */
  get historyBefore(): number | undefined {
    if (this.#epoch === null) return undefined
    return this.#oldest ?? this.#order.seq + 1
  }

  /** Messages held behind a gap. */
  get held(): number {
    return this.#order.held
  }

  /** A `message` frame; `own` is the outbox entry of an own publish it echoes. */
  frame(message: RoomEventMessage, bytes: number, own: PublishEntry | undefined, self: string | null): void {
    this.#order.arrive(arrivalOfFrame(message, bytes, own, self, this.#epoch ?? ''))
  }

  /**
   * An own publish was acknowledged with `seq`. Without echo a copy made from the ack goes through the
   * order; with echo the message itself comes, and the ack only says its seq exists.
   */
  acked(entry: PublishEntry, seq: number, self: string | null, now: number): void {
    if (seq <= 0) return
    if (entry.echo) this.#order.expect(seq)
    else this.#order.arrive(arrivalOfAck(entry, seq, self, this.#epoch ?? '', now))
  }

  /**
   * A `joined` says where the room stands ({@link resume}): seqs of another epoch say nothing about this
   * one, so what was held goes. Returns the resync to emit, if messages may be gone; held messages past
   * the new last seen wait for {@link drain}.
   */
  joined(message: JoinedMessage): ResyncInfo | null {
    const next = resume({ epoch: this.#epoch, seq: this.#order.seq }, message)
    if (next.newEpoch) {
      this.#order.clear(true)
      this.#oldest = undefined
    }
    this.#order.rebase(next.seq, message.seq)
    this.#epoch = message.epoch
    return next.resync
  }

  /** The server lost the room's sequence while joined: start over in the new epoch, and say so. */
  reset(message: ResetMessage): void {
    this.#order.clear(true)
    this.#oldest = undefined
    this.#order.rebase(message.seq, message.seq)
    this.#epoch = message.epoch
    this.#listener.changed()
    this.resync({ reason: 'reset', epoch: message.epoch, seq: message.seq })
  }

  resync(info: ResyncInfo): void {
    this.#emitter.emit('resync', info)
  }

  /** Deliver the held messages whose turn has come (after a rejoin's `joined`). */
  drain(): void {
    this.#order.drain()
  }

  /** Forget what is held (a drop: the rejoin replays it). */
  clear(): void {
    this.#order.clear()
  }

  /** Keep at least `count` recent messages for logs made later (a larger `history`). */
  keep(count: number): void {
    this.#recent.grow(count)
  }

  /** The room's message log for these options (the same one for the same options). */
  log(limit: number, events: readonly string[] | undefined): MessageLogImpl {
    const key = `${limit}\u0000${events?.join('\u0000') ?? '*'}`
    let log = this.#logs.get(key)
    if (log === undefined) {
      this.#recent.grow(limit)
      log = new MessageLogImpl(this.#source, limit, events, this.#recent.list())
      this.#logs.set(key, log)
    }
    return log
  }

  #onGap(action: GapAction): void {
    if (action === 'rejoin') {
      this.#listener.rejoin()
      return
    }
    this.#listener.changed()
    this.resync({ reason: 'gap', epoch: this.#epoch ?? '', seq: this.#order.seq })
  }

  #deliver(arrival: Arrival): void {
    const message = roomMessage(arrival)
    if (this.#oldest === undefined || message.seq < this.#oldest) this.#oldest = message.seq
    this.#recent.push(message)
    for (const log of this.#logs.values()) log.record(message)
    this.#listener.changed()
    if (arrival.toHandlers) this.#emitter.emit(arrival.event, arrival.data, arrival.meta)
    this.#emitter.emit(MESSAGE, message)
  }
}
