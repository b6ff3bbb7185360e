import type {
  JoinedMessage,
  PresenceInput,
  Protocol,
  RequestOutput,
  RoomRequestName,
} from '@roomwire/protocol'
import type { RoomFrame } from './client-frames'
import { deferred } from './deferred'
import { Emitter, Listeners } from './emitter'
import { invalid, RoomwireError } from './errors'
import { JoinHandshake } from './join-handshake'
import type { LogSource } from './message-log'
import type { MessageLog } from './message-log-types'
import { Outbox } from './outbox'
import { unanswered } from './pending-requests'
import { PresenceSync } from './presence-sync'
import type { RequestArgs, RequestOptions } from './requests'
import type { RoomEnv, RoomOwner } from './room-env'
import { type HistorySource, requestHistory } from './room-history'
import { requestMembers } from './room-member-pages'
import { RoomMembers } from './room-members'
import { MESSAGE, RoomMessages } from './room-messages'
import type {
  JoinOptions,
  Member,
  PublishOptions,
  Room,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
} from './room-types'
import type { Transport } from './transport'

/**
 * Room handle, shared by its holders (the client's {@link RoomRegistry} counts them). It owns the room's
 * status, when it joins (the first `join` a microtask after `client.join()`, then at every `welcome`),
 * and the snapshot. It is the only caller of the parts that keep their own books: {@link RoomMembers},
 * {@link RoomMessages} (epoch and seq, order with no gap, resyncs, logs), {@link Outbox} (own publishes),
 * {@link PresenceSync} (own presence), {@link JoinHandshake} (what a `join` carries, the one in flight).
 * It writes through the client's {@link Transport} and lives in its {@link RoomEnv}.
 */
export class RoomImpl<P extends Protocol = Protocol> implements Room<P> {
  readonly name: string
  readonly #transport: Transport
  readonly #env: RoomEnv
  readonly #owner: RoomOwner
  #status: RoomStatus = 'joining'
  #error: RoomwireError | null = null
  /** Joined on the current connection: room frames before its `joined` are not for this member. */
  #joinedHere = false
  /** The first `join` waits a microtask, so that every holder joining in this tick adds its options. */
  #firstJoinDue = true
  readonly #join: JoinHandshake
  readonly #presence: PresenceSync
  readonly #members: RoomMembers
  readonly #messages: RoomMessages
  readonly #outbox: Outbox
  readonly #historySource: HistorySource
  readonly #ready = deferred<void>()
  readonly ready: Promise<void> = this.#ready.promise
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
    const failed = (where: string) => (error: unknown) => env.handlerFailed(error, `room "${name}" ${where}`)
    this.#emitter = new Emitter((error, event) => failed(`${event} handler`)(error))
    this.#listeners = new Listeners(failed('listener'))
    const presence = options?.presence === undefined ? null : { value: options.presence }
    this.#presence = new PresenceSync(transport, env, name, presence)
    const joinParts = { transport, env, presence: this.#presence, position: () => this.#messages }
    this.#join = new JoinHandshake(name, options?.history, joinParts, this.#joinRefused.bind(this))
    const changed = () => this.#changed()
    this.#members = new RoomMembers(name, env.maxMembers, {
      changed,
      emit: (event, member) => this.#emitter.emit(event, member),
      report: env.report,
    })
    this.#messages = new RoomMessages(env, options?.history, this.#emitter, {
      changed,
      rejoin: () => this.#rejoin(),
      pending: () => this.#outbox.pending,
      subscribe: this.subscribe,
      publish: this.publish as LogSource['publish'],
      history: (options) => requestHistory(this.#historySource, options),
    })
    this.#outbox = new Outbox(transport, env, name, {
      changed,
      acked: (entry, seq) => this.#messages.acked(entry, seq, transport.clientId, env.clock.now()),
    })
    const joined = () => this.#status === 'joined' && this.#joinedHere
    this.#historySource = { name, transport, env, messages: this.#messages, outbox: this.#outbox, joined }
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

  // Arrow properties, so that each can be handed out on its own (`useSyncExternalStore`).
  readonly subscribe = (listener: () => void): (() => void) => this.#listeners.subscribe(listener)

  readonly getSnapshot = (): RoomSnapshot<P> => {
    if (this.#snapshot === null) {
      // The books are untyped; the protocol validated what went in.
      this.#snapshot = Object.freeze({
        name: this.name,
        status: this.#status,
        ...this.#members.snapshot,
        self: this.#members.get(this.#transport.clientId),
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

  // Typed by the interface, untyped inside: the protocol validated what reaches the books.
  readonly on: Room<P>['on'] = (event: string, handler: (...args: never[]) => void) =>
    this.#emitter.on(event, handler)

  onMessage(handler: (message: RoomMessage<P>) => void): () => void {
    return this.#emitter.on(MESSAGE, handler as (...args: never[]) => void)
  }

  readonly messageLog: Room<P>['messageLog'] = (options?: { limit?: number; events?: readonly string[] }) =>
    this.#messages.log(options?.limit ?? 100, options?.events) as unknown as MessageLog<P>

  /** One more holder: its options count until the room's first `join` is on the wire. */
  addHolder(options: JoinOptions<P> | undefined): void {
    const history = this.#join.addHolder(options)
    if (history !== undefined) this.#messages.keep(history)
  }

  /** Release one reference; the last one leaves after `leaveGraceMs`. */
  leave(): void {
    this.#owner.release(this)
  }

  /** The last holder is gone: tell the server, and end the handle. */
  leaveNow(): void {
    if (this.#transport.open) this.#transport.request({ type: 'leave', room: this.name }, unanswered)
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

  /** A connection got its `welcome` (or the first join's microtask ran): join, or rejoin to resume. */
  connectionReady(): void {
    if (this.#firstJoinDue || this.#status === 'left' || !this.#transport.open) return
    this.#join.send()
  }

  /** A join refused for good, or for now (retried: still joining, and `error` says why until `joined`). */
  #joinRefused(error: RoomwireError, final: boolean): void {
    if (final) this.#fail(error)
    else this.#error = error
    if (final) this.#owner.settled()
    else this.#changed()
  }

  /** The connection is gone: what was in flight waits for the rejoin. */
  disconnected(): void {
    this.#joinedHere = false
    this.#join.disconnected()
    this.#members.abort()
    this.#messages.clear()
    const requeued = this.#outbox.requeue()
    const wasJoined = this.#status === 'joined'
    if (wasJoined) this.#status = 'rejoining'
    if (requeued || wasJoined) this.#changed()
  }

  /** The client stopped for good (a final close code): reject what waits; a later reconnect rejoins. */
  stopped(error: RoomwireError): void {
    this.#join.cancel()
    this.#fail(error)
  }

  /** Refused for good (until a reconnect rejoins): everything waiting is rejected with `error`. */
  #fail(error: RoomwireError): void {
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
    // Before its `joined` a connection is no member: whatever else comes is not this member's (and the
    // replay after `joined` brings every message the member is owed).
    if (message.type !== 'joined' && !this.#joinedHere) return
    switch (message.type) {
      case 'joined':
        this.#onJoined(message)
        break
      case 'members':
        if (this.#members.page(message)) this.#complete()
        break
      case 'message': {
        const own = message.id === undefined ? undefined : this.#outbox.find(message.id)
        this.#messages.frame(message, bytes, own, this.#transport.clientId)
        break
      }
      case 'member_joined':
      case 'member_left':
      case 'presence':
      case 'member_count':
        this.#members.frame(message)
        break
      case 'member_changes':
        this.#members.changes(message)
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
    const whole = this.#members.joined(message, this.#transport.clientId)
    this.#snapshot = null
    // Before anything of the new state goes out or comes in: first the app learns what may be gone.
    if (resync !== null) this.#messages.resync(resync)
    if (whole) this.#complete()
    else this.#changed()
    // Held messages past the gap a rejoin was for, now in order.
    this.#messages.drain()
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

  /** A gap did not fill in time: join again with `since` here (an in-flight join or a reconnect does too). */
  #rejoin(): void {
    if (this.#status === 'joined' && !this.#join.inFlight && this.#transport.open) this.#join.send()
  }

  // An arrow property: the message logs publish through it too.
  readonly publish: Room<P>['publish'] = (event: string, data: unknown, options?: PublishOptions) => {
    const refused = this.#unusable() ?? invalid(this.#env.protocol?.validateEvent(event, data))
    return refused === null ? this.#outbox.add(event, data, options) : Promise.reject(refused)
  }

  // Typed by the interface, untyped inside; arrow properties: the message logs page back through history.
  readonly history: Room<P>['history'] = (options) => requestHistory(this.#historySource, options) as never

  readonly loadMembers: Room<P>['loadMembers'] = (options) =>
    requestMembers(this.#historySource, options) as never

  request<K extends RoomRequestName<P>>(name: K, ...args: RequestArgs<P, K>): Promise<RequestOutput<P, K>> {
    const refused = this.#unusable()
    if (refused !== null) return Promise.reject(refused)
    const [input, options] = args as [unknown, RequestOptions?]
    return this.#owner.request(this.name, name, input, options) as Promise<RequestOutput<P, K>>
  }

  setPresence(state: PresenceInput<P>): Promise<void> {
    const checked = this.#env.protocol?.validatePresence(state)
    const refused = this.#unusable() ?? invalid(checked)
    if (refused !== null) return Promise.reject(refused)
    this.#presence.state = { value: state }
    // Own presence as the others get it: what the schema kept (unknown keys stripped, transforms applied).
    this.#members.setOwn(this.#transport.clientId, checked?.success ? checked.data : state)
    return this.#presence.send(state, this.#status === 'joined' && this.#transport.open)
  }

  /** Why nothing can be sent in this room now: left, or refused for good (until a reconnect rejoins). */
  #unusable(): RoomwireError | null {
    if (this.#status === 'left') return new RoomwireError('left', `room "${this.name}" was left`)
    return this.#status === 'error' ? this.#error : null
  }

  /** The room's own publishes (after a 1009 close the client looks for the one the server refused). */
  get outbox(): Outbox {
    return this.#outbox
  }
}
