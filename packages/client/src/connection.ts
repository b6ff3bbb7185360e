import {
  decodeServerMessage,
  type Protocol,
  type ServerMessage,
  SUBPROTOCOL,
  type WelcomeMessage,
} from '@roomwire/protocol'
import type { ClientOptions } from './client-options'
import { type Clock, cancelTimer, type TimerHandle } from './clock'
import { RoomwireError } from './errors'
import { socketUrl } from './url'
import { OPEN, resolveWebSocket, type WebSocketLike } from './web-socket'

/** How one connection ended, when the client did not end it. */
export interface ConnectionEnd {
  /** The close code, or null when no socket was made (the token provider failed, no constructor). */
  code: number | null
  reason: string
  error: RoomwireError
  welcomed: boolean
}

export interface ConnectionCallbacks {
  onWelcome(welcome: WelcomeMessage): void
  /** A decoded frame after `welcome`; `bytes` is its length (what holding it costs). */
  onFrame(message: ServerMessage, bytes: number): void
  /** A frame that failed to decode or threw while handled: reported, and dropped. */
  onBadFrame(error: RoomwireError): void
  onEnd(end: ConnectionEnd): void
}

/**
 * Longest delay a timer takes: Node and browsers run a longer one (such as a hostile `welcome`'s
 * `interval: 1e300`) after 1 ms, which would make a ping loop.
 */
const MAX_TIMER_MS = 2_147_483_647

/**
 * A heartbeat bound from `welcome` as given (within what timers can do, and at least 100 ms: a hostile
 * `interval: 0.001` made 840 pings a second), shortened by the client's own.
 */
function heartbeatMs(server: number, own: number | undefined): number {
  return Math.min(Math.max(server, 100), own ?? MAX_TIMER_MS, MAX_TIMER_MS)
}

/** What a connection needs from the client's options (`connectTimeoutMs` defaults to 10 s). */
export type ConnectionConfig = Pick<
  ClientOptions<Protocol>,
  'url' | 'token' | 'WebSocket' | 'heartbeat' | 'connectTimeoutMs'
> & { readonly clock: Clock }

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

/**
 * One socket's lifetime: token, handshake, `welcome`, heartbeat, until it ends. After it ended or was
 * disposed it ignores everything its socket still reports, so a dropped socket can never act twice.
 */
export class Connection {
  readonly #config: ConnectionConfig
  readonly #callbacks: ConnectionCallbacks
  #socket: WebSocketLike | null = null
  #done = false
  #welcomed = false
  #connectTimer: TimerHandle | null = null
  #pingTimer: TimerHandle | null = null
  #deadTimer: TimerHandle | null = null
  #errorTimer: TimerHandle | null = null
  #frames = 0
  /** What the socket's error event said, if anything. */
  #socketError = ''
  #intervalMs = 0
  #timeoutMs = 0

  constructor(config: ConnectionConfig, callbacks: ConnectionCallbacks) {
    this.#config = config
    this.#callbacks = callbacks
  }

  get welcomed(): boolean {
    return this.#welcomed
  }

  /** Start the attempt: fetch the token (sync when it can be), then open the socket. */
  start(): void {
    const { clock, connectTimeoutMs = 10_000, token } = this.#config
    this.#connectTimer = clock.setTimeout(() => {
      this.#connectTimer = null
      this.#fail(1006, 'connect_timeout', `no welcome within ${connectTimeoutMs} ms`)
    }, connectTimeoutMs)
    let value: unknown
    try {
      value = typeof token === 'function' ? token() : token
    } catch (cause) {
      this.#fail(null, 'token', 'the token provider threw', cause)
      return
    }
    if (!isThenable(value)) {
      this.#open(value as string | null | undefined)
      return
    }
    value.then(
      (resolved) => {
        if (!this.#done) this.#open(resolved as string | null | undefined)
      },
      (cause: unknown) => this.#fail(null, 'token', 'the token provider rejected', cause),
    )
  }

  #open(token: string | null | undefined): void {
    const WebSocketImpl = resolveWebSocket(this.#config.WebSocket)
    if (WebSocketImpl === undefined) {
      this.#fail(null, 'no_websocket', 'no WebSocket in this runtime: pass the WebSocket option')
      return
    }
    let socket: WebSocketLike
    try {
      socket = new WebSocketImpl(socketUrl(this.#config.url, token), SUBPROTOCOL)
    } catch (cause) {
      // A URL that does not parse ends here too, also when an async token resolved it (no rejection).
      this.#fail(null, 'connection_lost', 'the WebSocket constructor threw', cause)
      return
    }
    this.#socket = socket
    try {
      socket.binaryType = 'arraybuffer'
    } catch {
      // Some implementations have no binaryType; text frames are all the protocol uses.
    }
    socket.onopen = null
    // Always keep an error handler: `ws` throws an 'error' event nobody listens to. A close event usually
    // follows, with its code; Node 20's undici WebSocket reports a reset during the handshake with an error
    // only and stays CONNECTING, so the attempt ends here if no close came right after.
    socket.onerror = (event: unknown) => {
      if (this.#done || this.#errorTimer !== null) return
      // The only place an HTTP status on the upgrade shows (a 404 path, a proxy's 502), in Node.
      const said = (event as { message?: unknown } | null | undefined)?.message
      if (typeof said === 'string' && said !== '') this.#socketError = said
      this.#errorTimer = this.#config.clock.setTimeout(() => {
        this.#errorTimer = null
        this.#fail(1006, 'connection_lost', `the socket reported an error${this.#why('')}`)
      }, 0)
    }
    socket.onmessage = (event) => {
      if (this.#done) return
      this.#frames++
      // The frame boundary (issue 12): nothing a server sends may reach an uncaught exception, which in
      // Node kills the process (`ws` calls this from its socket's data handler). A frame that throws
      // while handled is reported and dropped; the next one is handled as usual.
      try {
        this.#receive(event.data)
      } catch (cause) {
        this.#badFrame(new RoomwireError('bad_frame', 'a frame threw while handled', { cause }))
      }
    }
    socket.onclose = (event) => {
      if (this.#done) return
      const welcomed = this.#welcomed
      this.#finish()
      const reason = event.reason ?? ''
      this.#callbacks.onEnd({
        code: event.code,
        reason,
        welcomed,
        error: new RoomwireError(
          'connection_lost',
          `connection closed with ${event.code}${this.#why(reason)}`,
        ),
      })
    }
  }

  /** The close reason, else the socket's error message, in parentheses; nothing when neither said anything. */
  #why(reason: string): string {
    const said = reason || this.#socketError
    return said === '' ? '' : ` (${said})`
  }

  #badFrame(error: RoomwireError): void {
    try {
      this.#callbacks.onBadFrame(error)
    } catch {
      // Reporting is the last resort: it must not throw into the socket either.
    }
  }

  #receive(raw: unknown): void {
    // Text frames only (PROTOCOL.md, "Transport"); a browser or `ws` hands binary ones over as bytes.
    if (typeof raw !== 'string') {
      this.#badFrame(new RoomwireError('bad_frame', 'ignored a binary frame'))
      return
    }
    const decoded = decodeServerMessage(raw)
    if (!decoded.success) {
      this.#badFrame(new RoomwireError('bad_frame', `ignored a server frame: ${decoded.error.message}`))
      return
    }
    const message = decoded.data
    if (message.type === 'welcome') {
      if (this.#welcomed) return
      this.#welcomed = true
      this.#connectTimer = cancelTimer(this.#config.clock, this.#connectTimer)
      const own = this.#config.heartbeat
      this.#intervalMs = heartbeatMs(message.heartbeat.interval, own?.intervalMs)
      this.#timeoutMs = heartbeatMs(message.heartbeat.timeout, own?.timeoutMs)
      this.#schedulePing()
      this.#callbacks.onWelcome(message)
      return
    }
    if (!this.#welcomed) return
    this.#callbacks.onFrame(message, raw.length)
  }

  #schedulePing(): void {
    cancelTimer(this.#config.clock, this.#pingTimer)
    this.#pingTimer = this.#config.clock.setTimeout(() => {
      this.#pingTimer = null
      this.ping()
    }, this.#intervalMs)
  }

  /** Send a heartbeat ping now; no frame within the timeout after it ends the connection. */
  ping(): void {
    if (this.#done || !this.#welcomed) return
    const seen = this.#frames
    this.send(JSON.stringify({ type: 'ping', t: this.#config.clock.now() }))
    if (this.#deadTimer === null) {
      this.#deadTimer = this.#config.clock.setTimeout(() => {
        this.#deadTimer = null
        if (this.#frames === seen) {
          this.#fail(1006, 'heartbeat_timeout', `no frame within ${this.#timeoutMs} ms of a ping`)
        }
      }, this.#timeoutMs)
    }
    this.#schedulePing()
  }

  /** Write a frame if the socket is open; false otherwise. */
  send(frame: string): boolean {
    const socket = this.#socket
    if (this.#done || socket === null || socket.readyState !== OPEN) return false
    try {
      socket.send(frame)
      return true
    } catch {
      return false
    }
  }

  /** End it from our side: no callback follows. */
  dispose(): void {
    if (this.#done) return
    const socket = this.#socket
    this.#finish()
    if (socket !== null) {
      try {
        socket.close(1000)
      } catch {
        // Already closing.
      }
    }
  }

  #fail(code: number | null, errorCode: RoomwireError['code'], message: string, cause?: unknown): void {
    if (this.#done) return
    const socket = this.#socket
    const welcomed = this.#welcomed
    this.#finish()
    // Drop without a closing handshake: on a dead link a handshake would stall for its own timeout.
    if (socket !== null) {
      try {
        if (typeof socket.terminate === 'function') socket.terminate()
        else socket.close()
      } catch {
        // Already closed.
      }
    }
    this.#callbacks.onEnd({
      code,
      reason: '',
      welcomed,
      error: new RoomwireError(
        errorCode,
        message + causeSaid(cause),
        cause === undefined ? undefined : { cause },
      ),
    })
  }

  #finish(): void {
    this.#done = true
    const { clock } = this.#config
    this.#errorTimer = cancelTimer(clock, this.#errorTimer)
    this.#connectTimer = cancelTimer(clock, this.#connectTimer)
    this.#pingTimer = cancelTimer(clock, this.#pingTimer)
    this.#deadTimer = cancelTimer(clock, this.#deadTimer)
  }
}

/** What a thrown cause said, after a colon: `lastError.message` alone then names the fault (a relative fetch in a token provider under Node says "Failed to parse URL from /token"). */
function causeSaid(cause: unknown): string {
  const said = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : ''
  return said === '' ? '' : `: ${said}`
}
