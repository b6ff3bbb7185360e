import type {
  AckMessage,
  JoinedMessage,
  MemberJoinedMessage,
  MemberLeftMessage,
  PresenceChangedMessage,
  Protocol,
  ResetMessage,
  RoomEventMessage,
} from '@roomwire/protocol'
import type { TimerHandle } from './clock'
import { Emitter, Listeners } from './emitter'
import { RoomwireError } from './errors'
import { Members } from './members'
import type { RoomHost } from './room-host'
import type {
  JoinOptions,
  Member,
  MessageMeta,
  PendingPublish,
  PublishOptions,
  PublishResult,
  ResyncInfo,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
} from './types'
import { utf8Length } from './utf8'

interface PublishEntry {
  readonly id: string
  readonly event: string
  readonly data: unknown
  readonly echo: boolean
  readonly bytes: number
  readonly createdAt: number
  readonly timeoutMs: number
  status: 'queued' | 'sent'
  ref: number | null
  timer: TimerHandle | null
  view: PendingPublish
  resolve(result: PublishResult): void
  reject(error: RoomwireError): void
}

interface Waiter {
  resolve(): void
  reject(error: RoomwireError): void
}

/** A message on its way to handlers: from the wire, or synthesized from the ack of an own publish. */
interface Arrival {
  readonly event: string
  readonly data: unknown
  readonly meta: MessageMeta
  /** Deliver to `room.on(event)` handlers too (not for own publishes the server did not echo). */
  readonly toHandlers: boolean
}

const MESSAGE = '\u0000message'

/** Room handle; created and ref-counted by the client. */
export class RoomImpl {
  readonly name: string
  readonly ready: Promise<void>
  refs = 1
  readonly #host: RoomHost
  #history: number | undefined
  #presence: { value: unknown } | null
  #status: RoomStatus = 'joining'
  #error: RoomwireError | null = null
  #epoch: string | null = null
  #seq = 0
  readonly #members = new Members()
  readonly #publishes: PublishEntry[] = []
  #pendingList: readonly PendingPublish[] | null = null
  /** Messages that arrived after a gap an own publish in flight may fill (see #arrive). */
  #held: Arrival[] = []
  #presenceWaiters: Waiter[] = []
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
    this.#presence = options?.presence === undefined ? null : { value: options.presence }
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
      this.#pendingList ??= Object.freeze(this.#publishes.map((entry) => entry.view))
      this.#snapshot = Object.freeze({
        name: this.name,
        status: this.#status,
        members: this.#members.list,
        self: self === null ? null : (this.#members.get(self) ?? null),
        seq: this.#seq,
        epoch: this.#epoch,
        error: this.#error,
        pending: this.#pendingList,
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
      if (this.#presence === null && options.presence !== undefined)
        this.#presence = { value: options.presence }
    }
    this.refs++
    if (this.#graceTimer !== null) {
      this.#host.clock.clearTimeout(this.#graceTimer)
      this.#graceTimer = null
    }
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
    if (this.#graceTimer !== null) {
      this.#host.clock.clearTimeout(this.#graceTimer)
      this.#graceTimer = null
    }
    this.refs = 0
    this.#forgetJoin()
    this.#failPending(error)
    this.#held = []
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
    if (this.#presence !== null) message.presence = this.#presence.value
    if (this.#epoch !== null) {
      message.since = this.#seq
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
    this.#held = []
    let changed = false
    for (const entry of this.#publishes) {
      if (entry.status === 'sent') {
        this.#clearTimer(entry)
        entry.ref = null
        this.#setStatus(entry, 'queued')
        changed = true
      }
    }
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
    const entries = this.#publishes.splice(0)
    if (entries.length > 0) this.#pendingList = null
    for (const entry of entries) {
      this.#clearTimer(entry)
      if (entry.ref !== null) this.#host.forget(entry.ref)
      this.#host.release(entry.bytes)
      entry.reject(error)
    }
    const waiters = this.#presenceWaiters
    this.#presenceWaiters = []
    for (const waiter of waiters) waiter.reject(error)
  }

  // ---- server frames ---------------------------------------------------------------------------------

  onJoined(message: JoinedMessage): void {
    if (this.#status === 'left') return
    this.#forgetJoin()
    const stale = this.#epoch !== null && (message.epoch !== this.#epoch || message.recovered === false)
    this.#epoch = message.epoch
    this.#seq = stale ? message.seq : Math.max(this.#seq, message.seq)
    this.#members.reset(message.members)
    this.#status = 'joined'
    this.#error = null
    this.#changed()
    if (!this.#readySettled) {
      this.#readySettled = true
      this.#resolveReady()
    }
    const waiters = this.#presenceWaiters
    this.#presenceWaiters = []
    for (const waiter of waiters) waiter.resolve()
    if (stale) this.#resync({ reason: 'not_recovered', epoch: message.epoch, seq: message.seq })
    this.flush()
  }

  onReset(message: ResetMessage): void {
    this.#epoch = message.epoch
    this.#seq = message.seq
    this.#held = []
    this.#changed()
    this.#resync({ reason: 'reset', epoch: message.epoch, seq: message.seq })
  }

  #resync(info: ResyncInfo): void {
    this.#emitter.emit('resync', info)
  }

  onMemberJoined(message: MemberJoinedMessage): void {
    const member = this.#members.add(message.member)
    this.#changed()
    this.#emitter.emit('member_joined', member)
  }

  onMemberLeft(message: MemberLeftMessage): void {
    const member = this.#members.remove(message.id)
    if (member === undefined) return
    this.#changed()
    this.#emitter.emit('member_left', member)
  }

  onPresence(message: PresenceChangedMessage): void {
    const member = this.#members.setPresence(message.id, message.state)
    this.#changed()
    this.#emitter.emit('presence', member)
  }

  onRoomMessage(message: RoomEventMessage): void {
    const self = this.#host.clientId()
    const entry = message.id === undefined ? undefined : this.#publishes.find((p) => p.id === message.id)
    const meta: MessageMeta = {
      from: message.from,
      seq: message.seq,
      ts: message.ts,
      own: entry !== undefined || (self !== null && message.from === self),
      ...(message.id === undefined ? {} : { id: message.id }),
    }
    // An own publish without echo reaches this client only through a replay after a reconnect: it goes
    // to onMessage like the ack-synthesized copy would, and the later ack will find it delivered.
    this.#arrive({ event: message.event, data: message.data, meta, toHandlers: entry?.echo ?? true })
  }

  /** Deliver in `seq` order, once. Anything at or below the last seen `seq` is a duplicate. */
  #arrive(arrival: Arrival): void {
    const seq = arrival.meta.seq
    if (seq <= this.#seq) return
    // A gap while an own publish without echo is in flight is probably that publish: its seq comes with
    // the ack (possibly after later messages, with a store that allocates seq asynchronously). Hold on.
    if (seq > this.#seq + 1 && this.#ownInFlight()) {
      if (!this.#held.some((held) => held.meta.seq === seq)) {
        this.#held.push(arrival)
        this.#held.sort((a, b) => a.meta.seq - b.meta.seq)
      }
      return
    }
    this.#deliver(arrival)
    this.#drain()
  }

  #drain(): void {
    while (this.#held.length > 0) {
      const next = this.#held[0]!
      if (next.meta.seq <= this.#seq) {
        this.#held.shift()
        continue
      }
      if (next.meta.seq !== this.#seq + 1 && this.#ownInFlight()) return
      this.#held.shift()
      this.#deliver(next)
    }
  }

  #ownInFlight(): boolean {
    return this.#publishes.some((entry) => entry.status === 'sent' && !entry.echo)
  }

  #deliver(arrival: Arrival): void {
    this.#seq = arrival.meta.seq
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
    const id = options?.id ?? this.#host.newMessageId()
    const echo = options?.echo === true
    let bytes: number
    try {
      // The frame as it will be written, with room for the largest ref.
      const frame = { type: 'publish', room: this.name, event, data, id, echo, ref: Number.MAX_SAFE_INTEGER }
      bytes = utf8Length(JSON.stringify(frame))
    } catch (cause) {
      return Promise.reject(new RoomwireError('bad_request', 'data is not serializable as JSON', { cause }))
    }
    const max = this.#host.limits()?.maxMessageBytes
    if (max !== undefined && bytes > max) return Promise.reject(tooLarge(bytes, max))
    const overflow = this.#host.reserve(bytes)
    if (overflow !== null) return Promise.reject(overflow)
    return new Promise<PublishResult>((resolve, reject) => {
      const createdAt = this.#host.clock.now()
      const entry: PublishEntry = {
        id,
        event,
        data,
        echo,
        bytes,
        createdAt,
        timeoutMs: options?.timeoutMs ?? this.#host.ackTimeoutMs,
        status: 'queued',
        ref: null,
        timer: null,
        view: Object.freeze({ id, event, data, status: 'queued', createdAt }),
        resolve,
        reject,
      }
      this.#publishes.push(entry)
      this.#pendingList = null
      this.#changed()
      this.flush()
    })
  }

  /** Write queued publishes in order, once the room is joined on an open connection. */
  flush(): void {
    if (this.#status !== 'joined' || !this.#host.isOpen()) return
    let sent = false
    for (const entry of [...this.#publishes]) {
      if (entry.status !== 'queued') continue
      const message: Record<string, unknown> = {
        type: 'publish',
        room: this.name,
        event: entry.event,
        data: entry.data,
        id: entry.id,
      }
      if (entry.echo) message.echo = true
      const ref = this.#host.request(message, {
        ack: (ack) => this.#acked(entry, ack),
        error: (error) => this.#settle(entry, error),
        disconnect: () => {},
      })
      if (typeof ref !== 'number') {
        if (ref.code === 'not_connected') break
        this.#settle(entry, ref)
        continue
      }
      sent = true
      // An in-process transport may have answered inside send().
      if (!this.#publishes.includes(entry)) continue
      entry.ref = ref
      entry.timer = this.#host.clock.setTimeout(() => {
        entry.timer = null
        this.#settle(entry, new RoomwireError('timeout', `no ack within ${entry.timeoutMs} ms`))
      }, entry.timeoutMs)
      this.#setStatus(entry, 'sent')
    }
    if (sent) this.#changed()
  }

  #acked(entry: PublishEntry, ack: AckMessage): void {
    const seq = ack.seq ?? 0
    if (!this.#remove(entry)) return
    entry.resolve({ seq })
    if (!entry.echo && seq > 0) {
      const self = this.#host.clientId() ?? ''
      const meta: MessageMeta = { from: self, seq, ts: this.#host.clock.now(), id: entry.id, own: true }
      this.#arrive({ event: entry.event, data: entry.data, meta, toHandlers: false })
    }
    this.#drain()
  }

  /** A publish that ends without an ack (refused, timed out, too large). */
  #settle(entry: PublishEntry, error: RoomwireError): void {
    if (!this.#remove(entry)) return
    entry.reject(error)
    this.#drain()
  }

  #remove(entry: PublishEntry): boolean {
    const index = this.#publishes.indexOf(entry)
    if (index === -1) return false
    this.#publishes.splice(index, 1)
    this.#clearTimer(entry)
    if (entry.ref !== null) this.#host.forget(entry.ref)
    this.#host.release(entry.bytes)
    this.#pendingList = null
    this.#changed()
    return true
  }

  /** After a 1009 close: the largest publish in flight is the one the server refused to read. */
  dropLargestInFlight(): number {
    let largest: PublishEntry | null = null
    for (const entry of this.#publishes) {
      if (entry.status === 'sent' && (largest === null || entry.bytes >= largest.bytes)) largest = entry
    }
    if (largest === null) return 0
    const size = largest.bytes
    this.#settle(largest, new RoomwireError('too_large', 'the server closed with 1009: message too big'))
    return size
  }

  /** Bytes of the largest publish in flight (0 if none), to pick the room a 1009 came from. */
  largestInFlight(): number {
    let largest = 0
    for (const entry of this.#publishes) {
      if (entry.status === 'sent' && entry.bytes > largest) largest = entry.bytes
    }
    return largest
  }

  #setStatus(entry: PublishEntry, status: 'queued' | 'sent'): void {
    entry.status = status
    entry.view = Object.freeze({ ...entry.view, status })
    this.#pendingList = null
  }

  #clearTimer(entry: PublishEntry): void {
    if (entry.timer !== null) {
      this.#host.clock.clearTimeout(entry.timer)
      entry.timer = null
    }
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
    this.#presence = { value: state }
    const self = this.#host.clientId()
    if (self !== null && this.#members.get(self) !== undefined) {
      this.#members.setPresence(self, state)
      this.#changed()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject }
      if (this.#status !== 'joined' || !this.#host.isOpen()) {
        // The next join carries the latest state.
        this.#presenceWaiters.push(waiter)
        return
      }
      let timer: TimerHandle | null = null
      let answered = false
      const done = () => {
        answered = true
        if (timer !== null) this.#host.clock.clearTimeout(timer)
        timer = null
      }
      const ref = this.#host.request(
        { type: 'presence', room: this.name, state },
        {
          ack: () => {
            done()
            resolve()
          },
          error: (error) => {
            done()
            reject(error)
          },
          disconnect: () => {
            done()
            this.#presenceWaiters.push(waiter)
          },
        },
      )
      if (typeof ref !== 'number') {
        if (ref.code === 'not_connected') this.#presenceWaiters.push(waiter)
        else reject(ref)
        return
      }
      if (answered) return
      timer = this.#host.clock.setTimeout(() => {
        timer = null
        this.#host.forget(ref)
        reject(new RoomwireError('timeout', `no ack within ${this.#host.ackTimeoutMs} ms`))
      }, this.#host.ackTimeoutMs)
    })
  }
}

/** The local refusal of a frame over the server's `maxMessageBytes`: it is never sent, so 1009 cannot loop. */
export function tooLarge(bytes: number, max: number): RoomwireError {
  return new RoomwireError('too_large', `message is ${bytes} bytes, over the server's limit of ${max}`)
}
