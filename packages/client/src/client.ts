import {
  type ClientRequestName,
  closeAction,
  type DirectData,
  type DirectInput,
  type DirectName,
  type Limits,
  type Protocol,
  type RequestOutput,
  type UntypedProtocol,
  type WelcomeMessage,
} from '@roomwire/protocol'
import { afterClose, type Closes, noCloses, type RetryPolicy } from './after-close'
import { reconnectDefaults } from './backoff'
import { watchBrowserWake } from './browser-wake'
import { routeFrame } from './client-frames'
import type { ClientOptions } from './client-options'
import { ClientOutput } from './client-output'
import { requestsFor } from './client-requests'
import { type Clock, cancelTimer, keepProcessAlive, systemClock, type TimerHandle } from './clock'
import { Connection, type ConnectionEnd } from './connection'
import { invalid, RoomwireError } from './errors'
import { HealthWait } from './health-wait'
import { requestWithTimeout } from './request-with-timeout'
import type { RequestArgs, RequestOptions, Requests } from './requests'
import type { RoomImpl } from './room'
import { createRoomEnv, type RoomEnv } from './room-env'
import { RoomRegistry } from './room-registry'
import type { JoinOptions } from './room-types'
import { ClientTransport } from './transport'
import type { Client, ClientEvents, ClientSnapshot, ClientStatus, DirectMeta } from './types'
import { checkUrl } from './url'

/**
 * The client: one connection at a time (its lifecycle, and reconnects as {@link afterClose} decides),
 * the frames it routes, and direct messages. Its rooms are in the {@link RoomRegistry}; they write
 * through its {@link ClientTransport} and share one {@link RoomEnv}. What the app sees goes through
 * {@link ClientOutput}.
 */
class ClientImpl<P extends Protocol> implements Client<P> {
  readonly #options: ClientOptions<P>
  readonly #clock: Clock
  readonly #retryPolicy: RetryPolicy
  readonly #output: ClientOutput
  readonly #transport: ClientTransport
  readonly #rooms: RoomRegistry<P>
  readonly #env: RoomEnv
  /** Calls of `client.request` and `room.request`, from the call to their one answer. */
  readonly #calls: Requests
  #connection: Connection | null = null
  #retryTimer: TimerHandle | null = null
  /** Running: between connect() and close() or a final stop. Decides everything; close codes never do. */
  #active = false
  #everOpen = false
  #closes: Closes = noCloses
  #welcome: WelcomeMessage | null = null
  /** Runs from `welcome` for `healthyAfterMs`; the connection is healthy once it ran out and rooms settled. */
  readonly #health: HealthWait
  #detachBrowser: (() => void) | null = null

  constructor(options: ClientOptions<P>) {
    checkUrl(options.url)
    this.#options = options
    this.#clock = options.clock ?? systemClock
    const random = options.random ?? Math.random
    const backoff = options.reconnect === false ? null : { ...reconnectDefaults, ...options.reconnect }
    this.#retryPolicy = { backoff, random, canRefreshToken: typeof options.token === 'function' }
    const output = new ClientOutput(options.logger ?? console)
    this.#output = output
    this.subscribe = this.subscribe.bind(this)
    this.getSnapshot = this.getSnapshot.bind(this)
    this.#health = new HealthWait(this.#clock, options.healthyAfterMs ?? 5_000, () => this.#checkHealthy())
    this.#transport = new ClientTransport(
      () => this.#connection,
      () => this.#welcome,
    )
    this.#env = createRoomEnv(options, {
      clock: this.#clock,
      random,
      backoff,
      handlerFailed: (error, where) => output.handlerFailed(error, where),
      report: (error) => output.report(error),
    })
    this.#calls = requestsFor(this.#env, this.#transport, options.requestTimeoutMs ?? 15_000, {
      isJoined: (room) => this.#rooms.requestable(room),
      write: (frame) => this.#connection?.send(frame) === true,
    })
    this.#rooms = new RoomRegistry(this.#transport, this.#env, {
      settled: () => {
        this.#checkHealthy()
        // A room joined (or refused for good): its requests go (or fail).
        this.#calls.flush()
      },
      request: (room, name, input, requestOptions) => this.#calls.call(name, input, room, requestOptions),
      left: (name) => this.#calls.roomGone(name, new RoomwireError('left', `room "${name}" was left`)),
    })
    if (options.autoConnect !== false) this.connect()
  }

  get status(): ClientStatus {
    return this.#output.snapshot.status
  }

  get id(): string | null {
    return this.#output.snapshot.id
  }

  get user(): string | null {
    return this.#output.snapshot.user
  }

  get limits(): Limits | null {
    return this.#welcome?.limits ?? null
  }

  /** Handlers, listeners and pending requests (for leak tests). */
  get handlerCount(): number {
    const requests = this.#transport.requests.size + this.#calls.size
    return this.#output.size + requests + this.#rooms.handlerCount
  }

  on<K extends keyof ClientEvents>(event: K, handler: ClientEvents[K]): () => void {
    return this.#output.emitter.on(event, handler)
  }

  onDirect<K extends DirectName<P>>(
    event: K,
    handler: (data: DirectData<P, K>, meta: DirectMeta) => void,
  ): () => void {
    return this.#output.directs.on(event, handler as (...args: never[]) => void)
  }

  subscribe(listener: () => void): () => void {
    return this.#output.subscribe(listener)
  }

  getSnapshot(): ClientSnapshot {
    return this.#output.snapshot
  }

  // ---- lifecycle -------------------------------------------------------------------------------------

  connect(): void {
    if (this.#active) return
    this.#active = true
    this.#resetRetries()
    this.#detachBrowser ??= watchBrowserWake(
      () => this.#wake(),
      this.#options.resumeAfterHiddenMs ?? 30_000,
      () => this.#clock.now(),
    )
    this.#startAttempt()
  }

  reconnect(): void {
    if (!this.#active) {
      this.connect()
      return
    }
    this.#resetRetries()
    this.#dropConnection()
    this.#startAttempt()
  }

  close(): void {
    this.#halt()
    const closed = new RoomwireError('closed', 'the client was closed')
    this.#rooms.closeAll(closed)
    for (const request of this.#transport.requests.takeAll()) request.error(closed)
    this.#calls.failAll(closed)
    this.#welcome = null
    this.#output.patch({ status: 'closed', id: null, user: null, retryAt: null, attempt: 0 })
  }

  #resetRetries(): void {
    this.#closes = noCloses
    this.#output.patch({ attempt: 0 })
  }

  #startAttempt(): void {
    this.#cancelRetry()
    this.#output.patch({ status: this.#everOpen ? 'reconnecting' : 'connecting', retryAt: null })
    // Whatever a replaced socket still reports is ignored: one connection acts at a time.
    const live = () => this.#connection === connection
    const connection: Connection = new Connection(
      { ...this.#options, clock: this.#clock },
      {
        onWelcome: (welcome) => live() && this.#onWelcome(welcome),
        onFrame: (message, bytes) =>
          live() && routeFrame(message, bytes, this.#rooms, this.#calls, this.#transport, this.#output),
        onBadFrame: (error) => live() && this.#output.report(error),
        onEnd: (end) => live() && this.#onEnd(end),
      },
    )
    // One socket CONNECTING or OPEN per client: a new one is only made where the old one was dropped.
    this.#connection?.dispose()
    this.#connection = connection
    connection.start()
  }

  /** Drop the current connection (our decision): what was in flight waits for the next one. */
  #dropConnection(): void {
    if (this.#connection === null) return
    this.#connection.dispose()
    this.#connection = null
    this.#lostConnection()
  }

  #lostConnection(): void {
    this.#welcome = null
    this.#health.stop()
    for (const request of this.#transport.requests.takeAll()) request.disconnect()
    this.#calls.disconnected()
    this.#rooms.disconnected()
    this.#output.patch({ id: null, user: null })
  }

  #onWelcome(welcome: WelcomeMessage): void {
    this.#welcome = welcome
    this.#everOpen = true
    // The close-code table: a `welcome` between 1008 closes restarts their count. The backoff's attempt
    // counter waits until the connection proved healthy (#checkHealthy).
    this.#closes = noCloses
    this.#output.patch({
      status: 'open',
      id: welcome.id,
      user: welcome.user ?? null,
      retryAt: null,
      lastError: null,
    })
    this.#health.start()
    this.#output.emitter.emit('welcome', welcome)
    this.#rooms.connectionReady()
    this.#calls.flush()
  }

  /**
   * A connection proved healthy once it stayed open `healthyAfterMs` and every room's join settled:
   * only then does the backoff start again from its shortest delay (PROTOCOL.md, "What an SDK client
   * does"; issue 12: a server closing right after `welcome` was retried 5 times a second forever).
   */
  #checkHealthy(): void {
    if (!this.#health.over || this.#connection?.welcomed !== true) return
    if (this.#rooms.settled) this.#output.patch({ attempt: 0 })
  }

  #onEnd(end: ConnectionEnd): undefined {
    this.#connection = null
    // Before what was in flight goes back to the queue: the culprit is among the publishes sent.
    if (end.code !== null && closeAction(end.code) === 'drop-and-reconnect') this.#rooms.dropLargestInFlight()
    this.#lostConnection()
    // A routine drop is state (status, lastError, closeCode), not an 'error' event: apps that toast
    // errors would toast every reconnect. Final stops do emit.
    this.#output.patch({ lastError: end.error, ...(end.code === null ? {} : { closeCode: end.code }) })
    const next = afterClose(end, this.#closes, this.#output.snapshot.attempt, this.#retryPolicy)
    if (next.stop !== undefined) {
      this.#closes = { ...this.#closes, refreshingToken: false }
      return this.#stop(next.stop)
    }
    this.#closes = next
    this.#cancelRetry()
    const retry = this.#clock.setTimeout(() => {
      this.#retryTimer = null
      if (this.#active) this.#startAttempt()
    }, next.delayMs)
    this.#retryTimer = keepProcessAlive(retry)
    this.#output.patch({
      status: this.#everOpen ? 'reconnecting' : 'connecting',
      attempt: this.#output.snapshot.attempt + 1,
      retryAt: this.#clock.now() + next.delayMs,
    })
  }

  #cancelRetry(): void {
    this.#retryTimer = cancelTimer(this.#clock, this.#retryTimer)
  }

  /** Stop reconnecting for good (until `reconnect()`): the close code or the token said so. */
  #stop(error: RoomwireError): undefined {
    this.#halt()
    for (const request of this.#transport.requests.takeAll()) request.error(error)
    this.#calls.failAll(error)
    this.#rooms.stopped(error)
    this.#output.patch({
      status: error.code === 'unauthorized' ? 'unauthorized' : 'closed',
      retryAt: null,
      lastError: error,
    })
    this.#output.emitter.emit('error', error)
  }

  /** No socket, no retry, no browser listeners: what `close()` and a final stop have in common. */
  #halt(): void {
    this.#active = false
    this.#cancelRetry()
    this.#health.stop()
    this.#connection?.dispose()
    this.#connection = null
    this.#detachBrowser?.()
    this.#detachBrowser = null
  }

  /** The page is back (online, or visible after a long time hidden): retry now, or check the link. */
  #wake(): void {
    if (!this.#active) return
    if (this.#retryTimer !== null) this.#startAttempt()
    else if (this.#connection?.welcomed) this.#connection.ping()
  }

  request<K extends ClientRequestName<P>>(name: K, ...args: RequestArgs<P, K>): Promise<RequestOutput<P, K>> {
    const [input, options] = args as [unknown, RequestOptions?]
    return this.#calls.call(name, input, undefined, options) as Promise<RequestOutput<P, K>>
  }

  join(name: string, options?: JoinOptions<P>): RoomImpl<P> {
    return this.#rooms.join(name, options)
  }

  direct<K extends DirectName<P>>(to: string, event: K, data: DirectInput<P, K>): Promise<void> {
    const refused = invalid(this.#options.protocol?.validateDirect(event, data))
    if (refused !== null) return Promise.reject(refused)
    return new Promise<void>((resolve, reject) => {
      const message = { type: 'direct', to, event, data }
      const ref = requestWithTimeout(this.#transport, this.#env, message, resolve, reject, () =>
        reject(new RoomwireError('disconnected', 'the connection dropped before the ack')),
      )
      if (typeof ref !== 'number') reject(ref)
    })
  }
}

/**
 * Create a roomwire client: one reconnecting WebSocket, any number of rooms over it. It connects at once
 * (unless `autoConnect: false`), rejoins its rooms after every reconnect, and resends what was not
 * acknowledged.
 * @example
 * const client = createClient({ url: 'wss://chat.example/ws', protocol: chat, token: () => getToken() })
 * const room = client.join('general')
 * room.onMessage((m) => console.log(m.seq, m.event, m.data))
 * await room.publish('chat', { text: 'hello' })
 */
export function createClient<P extends Protocol = UntypedProtocol>(options: ClientOptions<P>): Client<P> {
  return new ClientImpl(options)
}
