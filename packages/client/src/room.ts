import type {
  JoinedMessage,
  MembersMessage,
  Protocol,
  ResetMessage,
  RoomEventMessage,
} from '@roomwire/protocol'
import { cancelTimer, type TimerHandle } from './clock'
import { Emitter, Listeners } from './emitter'
import { isRetryable, RoomwireError } from './errors'
import { type MemberFrame, Members } from './members'
import { MessageLogImpl } from './message-log'
import { type Arrival, type GapAction, MessageOrder } from './message-order'
import { Outbox, type PublishEntry } from './outbox'
import { PresenceSync } from './presence-sync'
import { RecentMessages } from './recent-messages'
import { resume } from './resume'
import { RetryTimer } from './retry-timer'
import type { RoomHost } from './room-host'
import type {
  JoinOptions,
  Member,
  MessageLogOptions,
  MessageMeta,
  PublishOptions,
  PublishResult,
  ResyncInfo,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
} from './types'

/** The server frames that concern one room. */
export type RoomFrame = JoinedMessage | MembersMessage | RoomEventMessage | MemberFrame | ResetMessage

const MESSAGE = '\u0000message'
const noop = () => {}

/**
 * Room handle; created and ref-counted by the client. It owns the room's status, the join handshake
 * (resume from `epoch`/`seq` after a reconnect, retried after a retryable refusal, resync decided by
 * {@link resume}), ref counting with the leave grace, and the snapshot; the parts it coordinates keep
 * their own books: {@link Members} (with paged member lists), {@link MessageOrder} (delivery in `seq`
 * order with no gap), {@link Outbox} (own publishes), {@link PresenceSync} (own presence) and
 * {@link RecentMessages} with the message logs fed from it. It is the only caller of each part.
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
  /** Joined on the current connection: room frames before its `joined` are not for this member. */
  #joinedHere = false
  readonly #members: Members
  readonly #order: MessageOrder
  readonly #outbox: Outbox
  readonly #recent: RecentMessages
  /** One log per options, for the life of the handle (a Map: event names come from the app). */
  readonly #logs = new Map<string, MessageLogImpl>()
  #joinRef: number | null = null
  /** A `joined` came since the last `join` was written (an in-process transport answers inside send). */
  #joinAnswered = false
  readonly #joinRetry: RetryTimer
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
    this.ready.catch(noop)
    this.#emitter = new Emitter((error, event) =>
      host.handlerFailed(error, `room "${name}" ${event} handler`),
    )
    this.#listeners = new Listeners((error) => host.handlerFailed(error, `room "${name}" listener`))
    this.#members = new Members(host.maxMembers)
    this.#order = new MessageOrder(
      host,
      (arrival) => this.#deliver(arrival),
      (action) => this.#onGap(action),
    )
    this.#outbox = new Outbox(host, name, {
      changed: () => this.#changed(),
      canWrite: () => this.#status === 'joined',
      acked: (entry, seq) => this.#onAcked(entry, seq),
    })
    this.#recent = new RecentMessages(Math.max(host.recentMessages, this.#history ?? 0))
    this.#joinRetry = new RetryTimer(host.clock, host.retryDelay)
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

  /** Messages held behind a gap (for bound tests). */
  get heldCount(): number {
    return this.#order.held
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

  messageLog(options?: MessageLogOptions<Protocol>): MessageLogImpl {
    const limit = options?.limit ?? 100
    const events = options?.events
    const key = `${limit}\u0000${events?.join('\u0000') ?? '*'}`
    let log = this.#logs.get(key)
    if (log === undefined) {
      this.#recent.grow(limit)
      log = new MessageLogImpl(
        {
          clock: this.#host.clock,
          newId: this.#host.newMessageId,
          pending: () => this.#outbox.pending,
          subscribe: this.subscribe,
          publish: (event, data, publishOptions) => this.publish(event, data, publishOptions),
          handlerFailed: this.#host.handlerFailed,
        },
        limit,
        events,
        this.#recent.list(),
      )
      this.#logs.set(key, log)
    }
    return log
  }

  // ---- references ------------------------------------------------------------------------------------

  /**
   * Take one more reference. Until the room's first `join` is on the wire, the options of every holder
   * count (the largest `history`, the first `presence`): effects run children first, so the component
   * that passes them is often not the first to join.
   */
  retain(options?: JoinOptions<Protocol>): void {
    if (this.#epoch === null && this.#joinRef === null && options !== undefined) {
      if (options.history !== undefined) {
        this.#history = Math.max(this.#history ?? 0, options.history)
        this.#recent.grow(this.#history)
      }
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
      this.#host.request({ type: 'leave', room: this.name }, { ack: noop, error: noop, disconnect: noop })
    }
    this.shutdown(new RoomwireError('left', `room "${this.name}" was left`))
    this.#host.removeRoom(this.name)
  }

  /** End this handle: everything pending is rejected with `error`, nothing stays scheduled. */
  shutdown(error: RoomwireError): void {
    this.#graceTimer = cancelTimer(this.#host.clock, this.#graceTimer)
    this.refs = 0
    this.#joinRetry.cancel()
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

  /** Whether the join settled on this connection: joined with all members, or refused for good. */
  get settled(): boolean {
    return this.#status === 'error' || (this.#status === 'joined' && !this.#members.paging)
  }

  /** Send `join` (first time, again after a reconnect, a refusal or a gap) with what is needed to resume. */
  sendJoin(): void {
    if (this.#status === 'left') return
    this.#joinRetry.cancel()
    this.#forgetJoin()
    const message: Record<string, unknown> = { type: 'join', room: this.name }
    if (this.#presence.state !== null) message.presence = this.#presence.state.value
    if (this.#epoch !== null) {
      message.since = this.#order.seq
      message.epoch = this.#epoch
    } else if (this.#history !== undefined && this.#history > 0) {
      message.history = this.#history
    }
    this.#joinAnswered = false
    const ref = this.#host.request(message, {
      ack: noop,
      error: (error) => this.#joinRefused(error),
      disconnect: noop,
    })
    // `joined` is routed by room, not by ref: the request is forgotten once it came.
    if (typeof ref === 'number') {
      if (this.#joinAnswered) this.#host.forget(ref)
      else this.#joinRef = ref
    }
    // Too large (a presence state over maxMessageBytes) can never be sent: final. Not connected: the
    // next `welcome` sends it.
    else if (ref.code !== 'not_connected') this.#joinRefused(ref)
  }

  #forgetJoin(): void {
    if (this.#joinRef !== null) {
      this.#host.forget(this.#joinRef)
      this.#joinRef = null
    }
  }

  #joinRefused(error: RoomwireError): void {
    this.#joinRef = null
    this.#joinAnswered = true
    // Retryable: nothing changed on the server; send it again after a backoff (on this connection; a
    // new one sends its own join at `welcome`).
    if (isRetryable(error.code)) {
      this.#joinRetry.schedule(() => {
        if (this.#host.isOpen()) this.sendJoin()
      })
      return
    }
    this.#status = 'error'
    this.#error = error
    this.#failPending(error)
    this.#changed()
    this.#host.settled()
  }

  /** The connection is gone: what was in flight waits for the rejoin. */
  disconnected(): void {
    this.#joinedHere = false
    this.#joinRef = null
    this.#joinRetry.cancel()
    this.#members.abort()
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
    this.#joinRetry.cancel()
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

  /** A frame addressed to this room (the client routes by `room`); `bytes` is the frame's length. */
  receive(message: RoomFrame, bytes: number): void {
    if (this.#status === 'left') return
    if (message.type === 'joined') {
      this.#onJoined(message)
      return
    }
    // Before its `joined` a connection is no member: whatever comes is not this member's (and the
    // replay after `joined` brings every message the member is owed).
    if (!this.#joinedHere) return
    switch (message.type) {
      case 'members':
        this.#onMembers(message)
        break
      case 'message':
        this.#onRoomMessage(message, bytes)
        break
      case 'member_joined':
      case 'member_left':
      case 'presence':
        this.#onMemberFrame(message)
        break
      case 'reset':
        this.#onReset(message)
        break
    }
  }

  #onJoined(message: JoinedMessage): void {
    this.#forgetJoin()
    this.#joinAnswered = true
    this.#joinRetry.succeeded()
    const next = resume({ epoch: this.#epoch, seq: this.#order.seq }, message)
    // Seqs of another epoch say nothing about this one: drop what was held.
    if (next.newEpoch) this.#order.clear()
    this.#order.rebase(next.seq, message.seq)
    this.#epoch = message.epoch
    this.#joinedHere = true
    this.#refused(this.#members.begin(message.members, message.more === true))
    this.#snapshot = null
    // Before anything of the new state goes out or comes in: first the app learns what may be gone.
    if (next.resync !== null) this.#resync(next.resync)
    if (this.#members.paging) this.#changed()
    else this.#complete()
    // Held messages past the gap a rejoin was for, now in order.
    this.#order.drain()
  }

  #onMembers(message: MembersMessage): void {
    if (!this.#members.paging) {
      this.#host.report(
        new RoomwireError('bad_frame', `room "${this.name}": members frame without joined.more`),
      )
      return
    }
    this.#refused(this.#members.page(message.members, message.more === true))
    if (!this.#members.paging) this.#complete()
  }

  /** The member list is whole: the room is joined, what waited for it goes out. */
  #complete(): void {
    this.#status = 'joined'
    this.#error = null
    this.#changed()
    if (!this.#readySettled) {
      this.#readySettled = true
      this.#resolveReady()
    }
    this.#presence.joined()
    this.#outbox.flush()
    this.#host.settled()
  }

  #refused(members: number): void {
    if (members === 0) return
    this.#host.report(
      new RoomwireError('bad_frame', `room "${this.name}": ${members} members over maxMembers`),
    )
  }

  #onReset(message: ResetMessage): void {
    this.#order.clear()
    this.#order.rebase(message.seq, message.seq)
    this.#epoch = message.epoch
    this.#changed()
    this.#resync({ reason: 'reset', epoch: message.epoch, seq: message.seq })
  }

  #resync(info: ResyncInfo): void {
    this.#emitter.emit('resync', info)
  }

  #onGap(action: GapAction): void {
    if (action === 'give-up') {
      this.#changed()
      this.#resync({ reason: 'gap', epoch: this.#epoch ?? '', seq: this.#order.seq })
      return
    }
    // Join again with `since` on this connection: the server replays the gap (or says recovered:
    // false). A join already in flight does the same; a dropped connection rejoins on its own.
    if (this.#status === 'joined' && this.#joinRef === null && this.#host.isOpen()) this.sendJoin()
  }

  #onMemberFrame(frame: MemberFrame): void {
    const change = this.#members.apply(frame)
    if (change === 'full') this.#refused(1)
    else if (change !== null) {
      this.#changed()
      this.#emitter.emit(change.event, change.member)
    }
  }

  #onRoomMessage(message: RoomEventMessage, bytes: number): void {
    const self = this.#host.clientId()
    const entry = message.id === undefined ? undefined : this.#outbox.find(message.id)
    const meta: MessageMeta = {
      from: message.from,
      seq: message.seq,
      epoch: this.#epoch ?? '',
      ts: message.ts,
      own: entry !== undefined || (self !== null && message.from === self),
      ...(message.id === undefined ? {} : { id: message.id }),
    }
    // An own publish without echo reaches this client only through a replay after a reconnect: it goes
    // to onMessage like the ack-synthesized copy would, and the later ack finds it delivered.
    this.#order.arrive({
      event: message.event,
      data: message.data,
      meta,
      toHandlers: entry?.echo ?? true,
      bytes,
    })
  }

  /**
   * An own publish was acknowledged. Without echo the server sends it to everyone else only, so the ack
   * stands for the message: a copy goes through the order like any message (held behind a gap, so an
   * ack never moves last seen past messages not received). With echo the message itself comes; the ack
   * only says its seq exists.
   */
  #onAcked(entry: PublishEntry, seq: number): void {
    if (seq <= 0) return
    if (entry.echo) {
      this.#order.expect(seq)
      return
    }
    const meta: MessageMeta = {
      from: this.#host.clientId() ?? '',
      seq,
      epoch: this.#epoch ?? '',
      ts: this.#host.clock.now(),
      id: entry.id,
      own: true,
    }
    this.#order.arrive({ event: entry.event, data: entry.data, meta, toHandlers: false, bytes: entry.bytes })
  }

  #deliver(arrival: Arrival): void {
    const message = { event: arrival.event, data: arrival.data, ...arrival.meta } as RoomMessage
    this.#recent.push(message)
    for (const log of this.#logs.values()) log.record(message)
    this.#changed()
    if (arrival.toHandlers) this.#emitter.emit(arrival.event, arrival.data, arrival.meta)
    this.#emitter.emit(MESSAGE, message)
  }

  // ---- publishing ------------------------------------------------------------------------------------

  publish(event: string, data: unknown, options?: PublishOptions): Promise<PublishResult> {
    const refused = this.#unusable()
    if (refused !== null) return Promise.reject(refused)
    const validation = this.#host.protocol?.validateEvent(event, data)
    if (validation !== undefined && !validation.success) {
      return Promise.reject(new RoomwireError('invalid_event', validation.error.message))
    }
    return this.#outbox.add(event, data, options)
  }

  /** Why nothing can be sent in this room now: left, or refused for good (until a reconnect rejoins). */
  #unusable(): RoomwireError | null {
    if (this.#status === 'left') return new RoomwireError('left', `room "${this.name}" was left`)
    if (this.#status === 'error') return this.#error
    return null
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
    const refused = this.#unusable()
    if (refused !== null) return Promise.reject(refused)
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
