import type { ClientMessage, RoomEventMessage, ServerMessage, ServerMessageType } from '@roomwire/protocol'
import WebSocket from 'ws'
import { createRoomServer, type HistoryRing, type RoomServer, type RoomServerOptions } from '../src/index'

/** A client frame whose `ref` the helper fills in when it is missing (some frames require one). */
type WithoutRef<T> = T extends unknown ? Omit<T, 'ref'> & { ref?: string | number | undefined } : never

type Of<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>

/** How a raw client connects. */
export interface ConnectOptions {
  /** Join this room (and wait for `joined`) once welcomed. */
  join?: string
  /** Subprotocols to offer. @default ['roomwire.v1'] */
  protocols?: string[]
  headers?: Record<string, string>
  /** Query string, without `?`. */
  query?: string
  /** Wait for `welcome`. @default true */
  welcome?: boolean
  /** ws client options (for example `autoPong: false`). */
  clientOptions?: WebSocket.ClientOptions
}

/** A raw JSON test client: everything it received, and `next(type)` to wait for more. */
export class TestClient {
  readonly ws: WebSocket
  readonly messages: ServerMessage[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly opened: Promise<void>
  #waiters: {
    type: string
    predicate: (m: ServerMessage) => boolean
    resolve: (m: ServerMessage) => void
  }[] = []
  #cursor = new Map<string, number>()
  id = ''

  constructor(url: string, options: ConnectOptions = {}) {
    this.ws = new WebSocket(url, options.protocols ?? ['roomwire.v1'], {
      headers: options.headers ?? {},
      ...options.clientOptions,
    })
    this.ws.on('error', () => {})
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      this.ws.once('close', () => reject(new Error('closed before open')))
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    this.ws.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as ServerMessage
      if (message.type === 'welcome') this.id = message.id
      this.#record(message)
      // A turn's membership changes in one frame: recorded as the frame, then as each change alone (what
      // the server sent before batching), so tests of a change need not care how it was framed.
      if (message.type === 'member_changes') {
        for (const change of message.changes) {
          if (change.joined !== undefined)
            this.#record({ type: 'member_joined', room: message.room, member: change.joined })
          else if (change.left !== undefined)
            this.#record({ type: 'member_left', room: message.room, id: change.left })
        }
      }
    })
  }

  #record(message: ServerMessage): void {
    this.messages.push(message)
    this.#waiters = this.#waiters.filter((w) => {
      if (w.type !== message.type || !w.predicate(message)) return true
      this.#take(message)
      w.resolve(message)
      return false
    })
  }

  #take(message: ServerMessage): void {
    const index = this.messages.indexOf(message)
    this.#cursor.set(message.type, Math.max(this.#cursor.get(message.type) ?? 0, index + 1))
  }

  /** Send a client message (or any object, to test refusals). */
  send(message: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message))
  }

  /** Send raw text. */
  sendRaw(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary })
  }

  /** The next message of `type` not yet taken by `next` (optionally matching `predicate`). */
  next<T extends ServerMessageType>(
    type: T,
    predicate: (m: Of<T>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Of<T>> {
    const from = this.#cursor.get(type) ?? 0
    const found = this.messages.slice(from).find((m) => m.type === type && predicate(m as Of<T>))
    if (found !== undefined) {
      this.#take(found)
      return Promise.resolve(found as Of<T>)
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        predicate: predicate as (m: ServerMessage) => boolean,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer)
          resolve(m as Of<T>)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(
          new Error(
            `no ${type} within ${timeoutMs} ms; received: ${JSON.stringify(this.messages.slice(-5))}`,
          ),
        )
      }, timeoutMs)
      this.#waiters.push(waiter)
    })
  }

  /** Every message of `type` received so far. */
  received<T extends ServerMessageType>(type: T): Of<T>[] {
    return this.messages.filter((m): m is Of<T> => m.type === type)
  }

  /** Send and wait for the reply carrying `ref`. */
  async request(message: WithoutRef<ClientMessage>): Promise<ServerMessage> {
    const ref = message.ref ?? Math.floor(Math.random() * 1e9)
    const reply = new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(message)}`)), 3000)
      const onMessage = (raw: WebSocket.RawData) => {
        const m = JSON.parse(raw.toString()) as ServerMessage
        if ('ref' in m && m.ref === ref) {
          clearTimeout(timer)
          this.ws.off('message', onMessage)
          resolve(m)
        }
      }
      this.ws.on('message', onMessage)
    })
    this.send({ ...message, ref })
    return reply
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    this.ws.terminate()
    await this.closed
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** A server on 127.0.0.1, port 0, with `connect()` for raw clients. */
export interface TestServer {
  readonly server: RoomServer
  readonly port: number
  /** ws://127.0.0.1:port/ws */
  readonly url: string
  /** http://127.0.0.1:port */
  readonly httpUrl: string
  connect(options?: ConnectOptions): Promise<TestClient>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** Start a server on an ephemeral loopback port; dispose it with `await using`. */
export async function startTestServer(
  options: Omit<RoomServerOptions, 'port' | 'server' | 'noServer'> = {},
): Promise<TestServer> {
  const server = createRoomServer({ port: 0, host: '127.0.0.1', ...options })
  await server.ready
  const port = server.address()!.port
  const path = options.path ?? '/ws'
  const clients = new Set<TestClient>()
  const close = async () => {
    await Promise.all([...clients].map((c) => c.close()))
    await server.close({ timeoutMs: 1000 })
  }
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}${path}`,
    httpUrl: `http://127.0.0.1:${port}`,
    async connect(connectOptions = {}) {
      const query = connectOptions.query === undefined ? '' : `?${connectOptions.query}`
      const client = new TestClient(`ws://127.0.0.1:${port}${path}${query}`, connectOptions)
      clients.add(client)
      if (connectOptions.welcome === false) return client
      await client.next('welcome')
      if (connectOptions.join !== undefined) {
        client.send({ type: 'join', room: connectOptions.join })
        await client.next('joined', (m) => m.room === connectOptions.join)
      }
      return client
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Push a room message onto a history ring as its encoded frame. */
export function pushMessage(ring: HistoryRing, message: RoomEventMessage): void {
  ring.push(message.seq, JSON.stringify(message), message.id)
}

/** The seqs of encoded `message` frames. */
export const seqsOf = (frames: readonly string[]): number[] =>
  frames.map((frame) => (JSON.parse(frame) as RoomEventMessage).seq)

/** The encoded frames of these messages, as a history ring returns them. */
export const framesOf = (...messages: RoomEventMessage[]): string[] =>
  messages.map((message) => JSON.stringify(message))

/** A stored room message in room `r` with this `seq` (and `id`), for history and adapter tests. */
export const msg = (seq: number, id?: string): RoomEventMessage => ({
  type: 'message',
  room: 'r',
  event: 'e',
  data: seq,
  from: 'c',
  seq,
  ts: 0,
  ...(id === undefined ? {} : { id }),
})
