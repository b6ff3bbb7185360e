import { decodeServerMessage, type ServerMessage, SUBPROTOCOL, type WelcomeMessage } from '@roomwire/protocol'
import { type Clock, cancelTimer, type TimerHandle } from './clock'
import { RoomwireError } from './errors'
import type { HeartbeatOptions, TokenProvider } from './types'
import { OPEN, resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './web-socket'

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
  onFrame(message: ServerMessage): void
  onBadFrame(error: RoomwireError): void
  onEnd(end: ConnectionEnd): void
}

export interface ConnectionConfig {
  url: string
  token: TokenProvider | undefined
  WebSocket: WebSocketConstructor | undefined
  clock: Clock
  connectTimeoutMs: number
  heartbeat: HeartbeatOptions | undefined
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

/** Resolve a relative URL against the page (browsers), and use the ws scheme for http(s) URLs. */
function buildUrl(url: string, token: string | null | undefined): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href
  const parsed = new URL(url, base)
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:'
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:'
  if (token) parsed.searchParams.set('token', token)
  return parsed.toString()
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
    const { clock, connectTimeoutMs, token } = this.#config
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
      socket = new WebSocketImpl(buildUrl(this.#config.url, token), SUBPROTOCOL)
    } catch (cause) {
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
    socket.onerror = () => {
      if (this.#done || this.#errorTimer !== null) return
      this.#errorTimer = this.#config.clock.setTimeout(() => {
        this.#errorTimer = null
        this.#fail(1006, 'connection_lost', 'the socket reported an error')
      }, 0)
    }
    socket.onmessage = (event) => {
      if (this.#done) return
      this.#frames++
      this.#receive(event.data)
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
          `connection closed with ${event.code}${reason ? ` (${reason})` : ''}`,
        ),
      })
    }
  }

  #receive(raw: unknown): void {
    const decoded =
      typeof raw === 'string' || raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)
        ? decodeServerMessage(raw)
        : ({ success: false, error: { code: 'bad_request', message: 'frame is not text' } } as const)
    if (!decoded.success) {
      this.#callbacks.onBadFrame(
        new RoomwireError('bad_frame', `ignored a server frame: ${decoded.error.message}`),
      )
      return
    }
    const message = decoded.data
    if (message.type === 'welcome') {
      if (this.#welcomed) return
      this.#welcomed = true
      this.#connectTimer = cancelTimer(this.#config.clock, this.#connectTimer)
      const own = this.#config.heartbeat
      this.#intervalMs = Math.min(message.heartbeat.interval, own?.intervalMs ?? Number.POSITIVE_INFINITY)
      this.#timeoutMs = Math.min(message.heartbeat.timeout, own?.timeoutMs ?? Number.POSITIVE_INFINITY)
      this.#schedulePing()
      this.#callbacks.onWelcome(message)
      return
    }
    if (!this.#welcomed) return
    this.#callbacks.onFrame(message)
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
      error: new RoomwireError(errorCode, message, cause === undefined ? undefined : { cause }),
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
