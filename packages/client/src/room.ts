import type {
  EventData,
  EventInput,
  EventName,
  JoinedMessage,
  MembersMessage,
  PresenceInput,
  Protocol,
  ResetMessage,
  RoomEventMessage,
} from '@roomwire/protocol'
import { deferred } from './deferred'
import { Emitter, Listeners } from './emitter'
import { invalid, RoomwireError } from './errors'
import { JoinHandshake } from './join-handshake'
import { type MemberFrame, Members } from './members'
import type { MessageLog, MessageLogOptions } from './message-log-types'
import { Outbox, type PublishEntry } from './outbox'
import { PresenceSync } from './presence-sync'
import type { RoomEnv, RoomOwner } from './room-env'
import { MESSAGE, RoomMessages } from './room-messages'
import type {
  JoinOptions,
  Member,
  MessageMeta,
  PublishOptions,
  PublishResult,
  Room,
  RoomLifecycleEvents,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
} from './room-types'
import type { Transport } from './transport'

/** The server frames that concern one room. */
export type RoomFrame = JoinedMessage | MembersMessage | RoomEventMessage | MemberFrame | ResetMessage

const noop = () => {}

/**
 * Room handle; created and ref-counted by the client. It owns the room's status, when and with what it
 * joins (the first `join` a microtask after `client.join()`, then at every `welcome`; resume from
 * `epoch`/`seq`, resync decided by {@link resume}), ref counting with the leave grace, and the snapshot.
 * The parts it coordinates keep their own books, and it is the only caller of each: {@link Members},
 * {@link RoomMessages} (delivery in `seq` order with no gap, logs, handlers), {@link Outbox} (own
 * publishes), {@link PresenceSync} (own presence) and {@link JoinHandshake} (the `join` in flight).
 * It writes through the client's {@link Transport} and lives in its {@link RoomEnv}.
 */
export class RoomImpl<P extends Protocol = Protocol> implements Room<P> {
  readonly name: string
  readonly ready: Promise<void>
  readonly #transport: Transport
  readonly #env: RoomEnv
  readonly #owner: RoomOwner
  #history: number | undefined
  #status: RoomStatus = 'joining'
  #error: RoomwireError | null = null
  /** Joined on the current connection: room frames before its `joined` are not for this member. */
  #joinedHere = false
  /** The first `join` waits a microtask, so that every holder joining in this tick adds its options. */
  #firstJoinDue = true
  readonly #join: JoinHandshake
  readonly #presence: PresenceSync
  readonly #members: Members
  readonly #messages: RoomMessages
  readonly #outbox: Outbox
  readonly #ready = deferred<void>()
  #snapshot: RoomSnapshot<P> | null = null
  readonly #emitter: Emitter
  readonly #listeners: Listeners

  constructor(
    name: string,
    options: JoinOptions<P> | undefined,
    transport: Transport,
    env: RoomEnv,
    owner: RoomOwner,
  ) {
    this.name = name
    this.#transport = transport
    this.#env = env
    this.#owner = owner
    this.#history = options?.history
    this.ready = this.#ready.promise
    const failed = (where: string) => (error: unknown) => env.handlerFailed(error, `room "${name}" ${where}`)
    this.#emitter = new Emitter((error, event) => failed(`${event} handler`)(error))
    this.#listeners = new Listeners(failed('listener'))
    const presence = options?.presence === undefined ? null : { value: options.presence }
    this.#presence = new PresenceSync(transport, env, name, presence)
    this.#join = new JoinHandshake(
      transport,
      env,
      () => this.#joinMessage(),
      (e) => this.#joinRefused(e),
    )
    this.#members = new Members(env.maxMembers)
    const keep = Math.max(env.recentMessages, this.#history ?? 0)
    const changed = () => this.#changed()
    this.#messages = new RoomMessages(env, keep, this.#emitter, { changed, rejoin: () => this.#rejoin() })
    this.#outbox = new Outbox(transport, env, name, {
      changed,
      acked: (entry, seq) => this.#messages.acked(entry, seq, transport.clientId, env.clock.now()),
    })
    this.subscribe = this.subscribe.bind(this)
    this.getSnapshot = this.getSnapshot.bind(this)
    queueMicrotask(() => {
      this.#firstJoinDue = false
      this.connectionReady()
    })
  }

  get status(): RoomStatus {
    return this.#status
  }

  get members(): readonly Member<P>[] {
    return this.getSnapshot().members
  }

  /** Handler and listener count (for leak tests). */
  get handlerCount(): number {
    return this.#emitter.size + this.#listeners.size
  }

  /** Messages held behind a gap (for bound tests). */
  get heldCount(): number {
    return this.#messages.held
  }

  /** Whether the join settled on this connection: joined with all members, or refused for good. */
  get settled(): boolean {
    return this.#status === 'error' || (this.#status === 'joined' && !this.#members.paging)
  }

  subscribe(listener: () => void): () => void {
    return this.#listeners.subscribe(listener)
  }

  getSnapshot(): RoomSnapshot<P> {
    if (this.#snapshot === null) {
      const self = this.#transport.clientId
      // The books are untyped; the protocol validated what went in.
      this.#snapshot = Object.freeze({
        name: this.name,
        status: this.#status,
        members: this.#members.list,
        self: self === null ? null : (this.#members.get(self) ?? null),
        seq: this.#messages.seq,
        epoch: this.#messages.epoch,
        error: this.#error,
        pending: this.#outbox.pending,
      }) as RoomSnapshot<P>
    }
    return this.#snapshot
  }

  #changed(): void {
    this.#snapshot = null
    this.#listeners.notify()
  }

  on<K extends keyof RoomLifecycleEvents<P>>(event: K, handler: RoomLifecycleEvents<P>[K]): () => void
  on<K extends EventName<P>>(
    event: K,
    handler: (data: EventData<P, K>, meta: MessageMeta) => void,
  ): () => void
  on(event: string, handler: (...args: never[]) => void): () => void {
    return this.#emitter.on(event, handler)
  }

  onMessage(handler: (message: RoomMessage<P>) => void): () => void {
    return this.#emitter.on(MESSAGE, handler as (...args: never[]) => void)
  }

  messageLog(options?: MessageLogOptions<P>): MessageLog<P>
  messageLog<E extends EventName<P>>(options: MessageLogOptions<P, E>): MessageLog<P, E>
  messageLog(options?: { limit?: number; events?: readonly string[] }): MessageLog<P> {
    const source = {
      clock: this.#env.clock,
      newId: this.#env.newMessageId,
      pending: () => this.#outbox.pending,
      subscribe: this.subscribe,
      publish: (event: string, data: unknown, o: PublishOptions) => this.#publish(event, data, o),
      handlerFailed: this.#env.handlerFailed,
    }
    // The log is untyped inside; its entries are what the protocol let through.
    return this.#messages.log(source, options?.limit ?? 100, options?.events) as unknown as MessageLog<P>
  }

  // ---- holders (counted by the client's registry) ----------------------------------------------------

  /**
   * One more holder. Until the room's first `join` is on the wire, the options of every holder count
   * (the largest `history`, the first `presence`): effects run children first, so the component that
   * passes them is often not the first to join.
   */
  addHolder(options: JoinOptions<P> | undefined): void {
    if (this.#messages.epoch !== null || this.#join.inFlight || options === undefined) return
    if (options.history !== undefined) {
      this.#history = Math.max(this.#history ?? 0, options.history)
      this.#messages.keep(this.#history)
    }
    if (this.#presence.state === null && options.presence !== undefined)
      this.#presence.state = { value: options.presence }
  }

  /** Release one reference; the last one leaves after `leaveGraceMs`. */
  leave(): void {
    this.#owner.release(this)
  }

  /** The last holder is gone: tell the server, and end the handle. */
  leaveNow(): void {
    if (this.#transport.open) {
      this.#transport.request(
        { type: 'leave', room: this.name },
        { ack: noop, error: noop, disconnect: noop },
      )
    }
    this.shutdown(new RoomwireError('left', `room "${this.name}" was left`))
  }

  /** End this handle: everything pending is rejected with `error`, nothing stays scheduled. */
  shutdown(error: RoomwireError): void {
    this.#join.cancel()
    this.#failPending(error)
    this.#messages.clear()
    this.#status = 'left'
    this.#changed()
    this.#emitter.clear()
  }

  // ---- the connection --------------------------------------------------------------------------------

  /**
   * The client's connection got its `welcome` (or the first join's microtask ran): join, or rejoin with
   * what is needed to resume. Before the first join's microtask it waits for it.
   */
  connectionReady(): void {
    if (this.#firstJoinDue || this.#status === 'left' || !this.#transport.open) return
    this.#join.send()
  }

  /** What the next `join` carries: presence, and `since`/`epoch` to resume or `history` the first time. */
  #joinMessage(): Record<string, unknown> {
    const message: Record<string, unknown> = { type: 'join', room: this.name }
    if (this.#presence.state !== null) message.presence = this.#presence.state.value
    const { epoch, seq } = this.#messages
    if (epoch !== null) {
      message.since = seq
      message.epoch = epoch
    } else if (this.#history !== undefined && this.#history > 0) {
      message.history = this.#history
    }
    return message
  }

  #joinRefused(error: RoomwireError): void {
    this.#status = 'error'
    this.#error = error
    this.#failPending(error)
    this.#changed()
    this.#owner.settled()
  }

  /** The connection is gone: what was in flight waits for the rejoin. */
  disconnected(): void {
    this.#joinedHere = false
    this.#join.disconnected()
    this.#members.abort()
    this.#messages.clear()
    let changed = this.#outbox.requeue()
    if (this.#status === 'joined') {
      this.#status = 'rejoining'
      changed = true
    }
    if (changed) this.#changed()
  }

  /** The client stopped for good (a final close code): reject what waits; a later reconnect rejoins. */
  stopped(error: RoomwireError): void {
    this.#join.cancel()
    this.#failPending(error)
    if (this.#status !== 'left') {
      this.#status = 'error'
      this.#error = error
    }
    this.#changed()
  }

  #failPending(error: RoomwireError): void {
    this.#ready.reject(error)
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
      case 'message': {
        const own = message.id === undefined ? undefined : this.#outbox.find(message.id)
        this.#messages.frame(message, bytes, own, this.#transport.clientId)
        break
      }
      case 'member_joined':
      case 'member_left':
      case 'presence':
        this.#onMemberFrame(message)
        break
      case 'reset':
        this.#messages.reset(message)
        break
    }
  }

  #onJoined(message: JoinedMessage): void {
    this.#join.joined()
    const resync = this.#messages.joined(message)
    this.#joinedHere = true
    this.#refused(this.#members.begin(message.members, message.more === true))
    this.#snapshot = null
    // Before anything of the new state goes out or comes in: first the app learns what may be gone.
    if (resync !== null) this.#messages.resync(resync)
    if (this.#members.paging) this.#changed()
    else this.#complete()
    // Held messages past the gap a rejoin was for, now in order.
    this.#messages.drain()
  }

  #onMembers(message: MembersMessage): void {
    if (!this.#members.paging) {
      this.#env.report(
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
    this.#ready.resolve()
    this.#presence.joined()
    this.#outbox.open()
    this.#owner.settled()
  }

  #refused(members: number): void {
    if (members === 0) return
    this.#env.report(
      new RoomwireError('bad_frame', `room "${this.name}": ${members} members over maxMembers`),
    )
  }

  /**
   * A gap did not fill in time: join again with `since` on this connection; the server replays it (or
   * says recovered: false). A join already in flight does the same; a dropped connection rejoins anyway.
   */
  #rejoin(): void {
    if (this.#status === 'joined' && !this.#join.inFlight && this.#transport.open) this.#join.send()
  }

  #onMemberFrame(frame: MemberFrame): void {
    const change = this.#members.apply(frame)
    if (change === 'full') this.#refused(1)
    else if (change !== null) {
      this.#changed()
      this.#emitter.emit(change.event, change.member)
    }
  }

  // ---- publishing and presence -----------------------------------------------------------------------

  publish<K extends EventName<P>>(
    event: K,
    data: EventInput<P, K>,
    options?: PublishOptions,
  ): Promise<PublishResult> {
    return this.#publish(event, data, options)
  }

  #publish(event: string, data: unknown, options: PublishOptions | undefined): Promise<PublishResult> {
    const refused = this.#unusable() ?? invalid(this.#env.protocol?.validateEvent(event, data))
    return refused === null ? this.#outbox.add(event, data, options) : Promise.reject(refused)
  }

  setPresence(state: PresenceInput<P>): Promise<void> {
    const refused = this.#unusable() ?? invalid(this.#env.protocol?.validatePresence(state))
    if (refused !== null) return Promise.reject(refused)
    this.#presence.state = { value: state }
    const self = this.#transport.clientId
    if (self !== null && this.#members.get(self) !== undefined) {
      this.#members.setPresence(self, state)
      this.#changed()
    }
    return this.#presence.send(state, this.#status === 'joined' && this.#transport.open)
  }

  /** Why nothing can be sent in this room now: left, or refused for good (until a reconnect rejoins). */
  #unusable(): RoomwireError | null {
    if (this.#status === 'left') return new RoomwireError('left', `room "${this.name}" was left`)
    return this.#status === 'error' ? this.#error : null
  }

  /** After a 1009 close: the largest publish in flight is the one the server refused to read. */
  dropLargestInFlight(): void {
    this.#outbox.dropLargestInFlight()
  }

  /** Bytes of the largest publish in flight (0 if none), to pick the room a 1009 came from. */
  largestInFlight(): number {
    return this.#outbox.largestInFlight()
  }
}
