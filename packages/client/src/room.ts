import type {
  JoinedMessage,
  MemberJoinedMessage,
  MemberLeftMessage,
  PresenceChangedMessage,
  Protocol,
  ResetMessage,
  RoomEventMessage,
} from '@roomwire/protocol'
import { cancelTimer, type TimerHandle } from './clock'
import { Emitter, Listeners } from './emitter'
import { RoomwireError } from './errors'
import { Members } from './members'
import { type Arrival, MessageOrder } from './message-order'
import { Outbox } from './outbox'
import { PresenceSync } from './presence-sync'
import type { RoomHost } from './room-host'
import type {
  JoinOptions,
  Member,
  MessageMeta,
  PublishOptions,
  PublishResult,
  ResyncInfo,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
} from './types'

/** The server frames that concern one room. */
export type RoomFrame =
  | JoinedMessage
  | RoomEventMessage
  | MemberJoinedMessage
  | MemberLeftMessage
  | PresenceChangedMessage
  | ResetMessage

const MESSAGE = '\u0000message'

/**
 * Room handle; created and ref-counted by the client. It owns the room's status, the join handshake
 * (resume from `epoch`/`seq` after a reconnect), ref counting with the leave grace, and the snapshot;
 * the parts it coordinates keep their own books: {@link Members}, {@link MessageOrder} (delivery in
 * `seq` order), {@link Outbox} (own publishes) and {@link PresenceSync} (own presence).
 */
export class RoomImpl {
  readonly name: string
  readonly ready: Promise<void>
  refs = 1
  readonly #host: RoomHost
  #history: number | undefined
  readonly #presence: PresenceSync
  #status: RoomStatus = 'joining'
  #error: RoomwireError | null = null
  #epoch: string | null = null
  readonly #members = new Members()
  readonly #order: MessageOrder
  readonly #outbox: Outbox
  #joinRef: number | null = null
  #graceTimer: TimerHandle | null = null
  #readySettled = false
  #resolveReady!: () => void
  #rejectReady!: (error: RoomwireError) => void
  #snapshot: RoomSnapshot | null = null
  readonly #emitter: Emitter
  readonly #listeners: Listeners

  constructor(host: RoomHost, name: string, options: JoinOptions<Protocol> | undefined) {
    this.#host = host
    this.name = name
    this.#history = options?.history
    this.#presence = new PresenceSync(
      host,
      name,
      options?.presence === undefined ? null : { value: options.presence },
    )
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    // Nobody may await `ready`; a refused join must not become an unhandled rejection.
    this.ready.catch(() => {})
    this.#emitter = new Emitter((error, event) =>
      host.handlerFailed(error, `room "${name}" ${event} handler`),
    )
    this.#listeners = new Listeners((error) => host.handlerFailed(error, `room "${name}" listener`))
    this.#order = new MessageOrder(
      (arrival) => this.#deliver(arrival),
      () => this.#outbox.ownInFlight(),
    )
    this.#outbox = new Outbox(
      host,
      name,
      this.#order,
      () => this.#changed(),
      () => this.#status === 'joined',
    )
    this.subscribe = this.subscribe.bind(this)
    this.getSnapshot = this.getSnapshot.bind(this)
  }

  get status(): RoomStatus {
    return this.#status
  }

  get members(): readonly Member[] {
    return this.getSnapshot().members
  }

  /** Handler and listener count (for leak tests). */
  get handlerCount(): number {
    return this.#emitter.size + this.#listeners.size
  }

  subscribe(listener: () => void): () => void {
    return this.#listeners.subscribe(listener)
  }

  getSnapshot(): RoomSnapshot {
    if (this.#snapshot === null) {
      const self = this.#host.clientId()
      this.#snapshot = Object.freeze({
        name: this.name,
        status: this.#status,
        members: this.#members.list,
        self: self === null ? null : (this.#members.get(self) ?? null),
        seq: this.#order.seq,
        epoch: this.#epoch,
        error: this.#error,
        pending: this.#outbox.pending,
      })
    }
    return this.#snapshot
  }

  #changed(): void {
    this.#snapshot = null
    this.#listeners.notify()
  }

  on(event: string, handler: (...args: never[]) => void): () => void {
    return this.#emitter.on(event, handler)
  }

  onMessage(handler: (message: RoomMessage) => void): () => void {
    return this.#emitter.on(MESSAGE, handler as (...args: never[]) => void)
  }

  // ---- references ------------------------------------------------------------------------------------

  /**
   * Take one more reference. Until the room's first `join` is on the wire, the options of every holder
   * count (the largest `history`, the first `presence`): effects run children first, so the component
   * that passes them is often not the first to join.
   */
  retain(options?: JoinOptions<Protocol>): void {
    if (this.#epoch === null && this.#joinRef === null && options !== undefined) {
      if (options.history !== undefined) this.#history = Math.max(this.#history ?? 0, options.history)
      if (this.#presence.state === null && options.presence !== undefined)
        this.#presence.state = { value: options.presence }
    }
    this.refs++
    this.#graceTimer = cancelTimer(this.#host.clock, this.#graceTimer)
  }

  leave(): void {
    if (this.refs === 0) return
    this.refs--
    if (this.refs > 0) return
    if (this.#host.leaveGraceMs <= 0) {
      this.#leaveNow()
      return
    }
    this.#graceTimer = this.#host.clock.setTimeout(() => {
      this.#graceTimer = null
      if (this.refs === 0) this.#leaveNow()
    }, this.#host.leaveGraceMs)
  }

  #leaveNow(): void {
    if (this.#host.isOpen()) {
      this.#host.request({ type: 'leave', room: this.name }, { ack() {}, error() {}, disconnect() {} })
    }
    this.shutdown(new RoomwireError('left', `room "${this.name}" was left`))
    this.#host.removeRoom(this.name)
  }

  /** End this handle: everything pending is rejected with `error`, nothing stays scheduled. */
  shutdown(error: RoomwireError): void {
    this.#graceTimer = cancelTimer(this.#host.clock, this.#graceTimer)
    this.refs = 0
    this.#forgetJoin()
    this.#failPending(error)
    this.#order.clear()
    this.#status = 'left'
    this.#changed()
    this.#emitter.clear()
  }

  // ---- joining ---------------------------------------------------------------------------------------

  /** Whether the first `join` still waits to be written (the client sends it a microtask after `join()`). */
  get awaitsFirstJoin(): boolean {
    return this.#status === 'joining' && this.#joinRef === null && this.#epoch === null
  }

  /** Send `join` (first time, or again after a reconnect) with what is needed to resume. */
  sendJoin(): void {
    if (this.#status === 'left') return
    this.#forgetJoin()
    const message: Record<string, unknown> = { type: 'join', room: this.name }
    if (this.#presence.state !== null) message.presence = this.#presence.state.value
    if (this.#epoch !== null) {
      message.since = this.#order.seq
      message.epoch = this.#epoch
    } else if (this.#history !== undefined && this.#history > 0) {
      message.history = this.#history
    }
    const ref = this.#host.request(message, {
      ack: () => {},
      error: (error) => this.#joinRefused(error),
      disconnect: () => {},
    })
    this.#joinRef = typeof ref === 'number' ? ref : null
  }

  #forgetJoin(): void {
    if (this.#joinRef !== null) {
      this.#host.forget(this.#joinRef)
      this.#joinRef = null
    }
  }

  #joinRefused(error: RoomwireError): void {
    this.#joinRef = null
    this.#status = 'error'
    this.#error = error
    this.#failPending(error)
    this.#changed()
  }

  /** The connection is gone: what was in flight waits for the rejoin. */
  disconnected(): void {
    this.#joinRef = null
    this.#order.clear()
    let changed = this.#outbox.requeue()
    if (this.#status === 'joined') {
      this.#status = 'rejoining'
      changed = true
    }
    if (changed) this.#changed()
  }

  /** The client stopped for good (a final close code): reject what waits; a later reconnect rejoins. */
  stopped(error: RoomwireError): void {
    this.#failPending(error)
    if (this.#status !== 'left') {
      this.#status = 'error'
      this.#error = error
    }
    this.#changed()
  }

  #failPending(error: RoomwireError): void {
    if (!this.#readySettled) {
      this.#readySettled = true
      this.#rejectReady(error)
    }
    this.#outbox.failAll(error)
    this.#presence.fail(error)
  }

  // ---- server frames ---------------------------------------------------------------------------------

  /** A frame addressed to this room (the client routes by `room`). */
  receive(message: RoomFrame): void {
    switch (message.type) {
      case 'joined':
        this.#onJoined(message)
        break
      case 'message':
        this.#onRoomMessage(message)
        break
      case 'member_joined':
        this.#onMemberJoined(message)
        break
      case 'member_left':
        this.#onMemberLeft(message)
        break
      case 'presence':
        this.#onPresence(message)
        break
      case 'reset':
        this.#onReset(message)
        break
    }
  }

  #onJoined(message: JoinedMessage): void {
    if (this.#status === 'left') return
    this.#forgetJoin()
    const stale = this.#epoch !== null && (message.epoch !== this.#epoch || message.recovered === false)
    const sameEpoch = this.#epoch === message.epoch
    this.#epoch = message.epoch
    // The replay follows `joined` (PROTOCOL.md, "Joining"): last seen becomes the seq just before it, so
    // each replayed message is delivered once. In the same epoch, what was already seen stays seen.
    const base = message.seq - (message.replay ?? 0)
    this.#order.seq = sameEpoch && !stale ? Math.max(this.#order.seq, base) : base
    this.#members.reset(message.members)
    this.#status = 'joined'
    this.#error = null
    this.#changed()
    if (!this.#readySettled) {
      this.#readySettled = true
      this.#resolveReady()
    }
    this.#presence.joined()
    if (stale) this.#resync({ reason: 'not_recovered', epoch: message.epoch, seq: message.seq })
    this.#outbox.flush()
  }

  #onReset(message: ResetMessage): void {
    this.#epoch = message.epoch
    this.#order.seq = message.seq
    this.#order.clear()
    this.#changed()
    this.#resync({ reason: 'reset', epoch: message.epoch, seq: message.seq })
  }

  #resync(info: ResyncInfo): void {
    this.#emitter.emit('resync', info)
  }

  #onMemberJoined(message: MemberJoinedMessage): void {
    const member = this.#members.add(message.member)
    this.#changed()
    this.#emitter.emit('member_joined', member)
  }

  #onMemberLeft(message: MemberLeftMessage): void {
    const member = this.#members.remove(message.id)
    if (member === undefined) return
    this.#changed()
    this.#emitter.emit('member_left', member)
  }

  #onPresence(message: PresenceChangedMessage): void {
    const member = this.#members.setPresence(message.id, message.state)
    this.#changed()
    this.#emitter.emit('presence', member)
  }

  #onRoomMessage(message: RoomEventMessage): void {
    const self = this.#host.clientId()
    const entry = message.id === undefined ? undefined : this.#outbox.find(message.id)
    const meta: MessageMeta = {
      from: message.from,
      seq: message.seq,
      ts: message.ts,
      own: entry !== undefined || (self !== null && message.from === self),
      ...(message.id === undefined ? {} : { id: message.id }),
    }
    // An own publish without echo reaches this client only through a replay after a reconnect: it goes
    // to onMessage like the ack-synthesized copy would, and the later ack will find it delivered.
    this.#order.arrive({ event: message.event, data: message.data, meta, toHandlers: entry?.echo ?? true })
  }

  #deliver(arrival: Arrival): void {
    this.#changed()
    if (arrival.toHandlers) this.#emitter.emit(arrival.event, arrival.data, arrival.meta)
    this.#emitter.emit(MESSAGE, { event: arrival.event, data: arrival.data, ...arrival.meta })
  }

  // ---- publishing ------------------------------------------------------------------------------------

  publish(event: string, data: unknown, options?: PublishOptions): Promise<PublishResult> {
    if (this.#status === 'left') {
      return Promise.reject(new RoomwireError('left', `room "${this.name}" was left`))
    }
    const validation = this.#host.protocol?.validateEvent(event, data)
    if (validation !== undefined && !validation.success) {
      return Promise.reject(new RoomwireError('invalid_event', validation.error.message))
    }
    return this.#outbox.add(event, data, options)
  }

  /** After a 1009 close: the largest publish in flight is the one the server refused to read. */
  dropLargestInFlight(): void {
    this.#outbox.dropLargestInFlight()
  }

  /** Bytes of the largest publish in flight (0 if none), to pick the room a 1009 came from. */
  largestInFlight(): number {
    return this.#outbox.largestInFlight()
  }

  // ---- presence --------------------------------------------------------------------------------------

  setPresence(state: unknown): Promise<void> {
    if (this.#status === 'left') {
      return Promise.reject(new RoomwireError('left', `room "${this.name}" was left`))
    }
    const validation = this.#host.protocol?.validatePresence(state)
    if (validation !== undefined && !validation.success) {
      return Promise.reject(new RoomwireError('invalid_event', validation.error.message))
    }
    this.#presence.state = { value: state }
    const self = this.#host.clientId()
    if (self !== null && this.#members.get(self) !== undefined) {
      this.#members.setPresence(self, state)
      this.#changed()
    }
    return this.#presence.send(state, this.#status === 'joined' && this.#host.isOpen())
  }
}
