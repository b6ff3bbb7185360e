import type { WebSocketLike } from '../../src/web-socket'

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3

/**
 * A scripted WebSocket: records what the client sends and lets the test play the server. Events fire
 * synchronously when a driver method is called, so a test decides exactly when each one happens.
 */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = []
  /** Called for each new socket after the constructor (the FakeServer hooks in here). */
  static onCreate: ((socket: FakeWebSocket) => void) | null = null

  static reset(): void {
    FakeWebSocket.instances = []
    FakeWebSocket.onCreate = null
  }

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1)
    if (socket === undefined) throw new Error('no FakeWebSocket was created')
    return socket
  }

  /** Sockets CONNECTING or OPEN right now. */
  static live(): number {
    return FakeWebSocket.instances.filter((s) => s.readyState === CONNECTING || s.readyState === OPEN).length
  }

  readonly url: string
  readonly protocols: string | string[] | undefined
  readyState = CONNECTING
  binaryType = 'blob'
  readonly sent: string[] = []
  /** Codes the client passed to close(), in order. */
  readonly closeCalls: Array<number | undefined> = []
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  /** Called with every frame the client sends (the FakeServer answers here). */
  onSend: ((data: string) => void) | null = null

  constructor(url: string, protocols?: string | string[]) {
    this.url = url
    this.protocols = protocols
    FakeWebSocket.instances.push(this)
    const hook = FakeWebSocket.onCreate
    // Like a real socket, nothing happens before the caller has attached its handlers.
    if (hook !== null) queueMicrotask(() => hook(this))
  }

  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error(`send() while readyState is ${this.readyState}`)
    this.sent.push(data)
    this.onSend?.(data)
  }

  close(code?: number, _reason?: string): void {
    this.closeCalls.push(code)
    if (this.readyState === CLOSING || this.readyState === CLOSED) return
    this.readyState = CLOSING
    // A browser reports the close later, after the handshake; the client must not depend on it.
    queueMicrotask(() => this.#closed(code ?? 1005, ''))
  }

  // ---- drivers (the test plays the server and the network) ------------------------------------------

  open(): void {
    this.readyState = OPEN
    this.onopen?.({})
  }

  receive(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) })
  }

  welcome(id = 'c1', overrides: Record<string, unknown> = {}): void {
    if (this.readyState === CONNECTING) this.open()
    this.receive({
      type: 'welcome',
      id,
      protocol: 1,
      heartbeat: { interval: 30_000, timeout: 10_000 },
      limits: { maxMessageBytes: 65_536, maxRoomsPerConnection: 10 },
      ...overrides,
    })
  }

  /** The server (or the network) closes the connection with this code. */
  serverClose(code: number, reason = ''): void {
    if (this.readyState === CLOSED) return
    this.#closed(code, reason)
  }

  #closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    if (code === 1006) this.onerror?.({})
    this.onclose?.({ code, reason })
  }

  messages(): Array<Record<string, unknown>> {
    return this.sent.map((frame) => JSON.parse(frame) as Record<string, unknown>)
  }

  sentOfType(type: string): Array<Record<string, unknown>> {
    return this.messages().filter((m) => m.type === type)
  }
}
