import { type Client, type ClientOptions, createClient, type Room } from '@roomwire/client'
import WebSocket from 'ws'
import type { LinkProxy } from './link-proxy'

/**
 * What one SDK client lived through, in the order it happened: the application's calls (`join`,
 * `leave`), the frames its sockets received that decide what it must deliver (`welcome`, `joined`,
 * `reset`, the `shutdown` notice; recorded just before the SDK handles them, and only while the SDK still
 * listens to that socket), and what the SDK gave the application (`deliver`, `resync`).
 */
export type Observation =
  | { t: number; kind: 'join'; history: number }
  | { t: number; kind: 'leave' }
  | { t: number; kind: 'welcome'; conn: number; id: string }
  | {
      t: number
      kind: 'joined'
      conn: number
      epoch: string
      seq: number
      replay: number
      recovered: boolean | undefined
    }
  | { t: number; kind: 'reset'; conn: number; epoch: string; seq: number }
  | { t: number; kind: 'shutdown'; conn: number }
  | { t: number; kind: 'closed'; conn: number }
  | { t: number; kind: 'deliver'; epoch: string; seq: number; key: string; from: string; own: boolean }
  | { t: number; kind: 'resync'; reason: string; epoch: string; seq: number }

/** One `room.publish()` and how it ended. */
export interface PublishRecord {
  client: number
  key: string
  echo: boolean
  t: number
  settled?:
    | { t: number; ok: true; seq: number; epoch: string | null }
    | { t: number; ok: false; code: string; message: string }
}

/** The data every model publish carries: a key unique in its run. */
export interface ModelData {
  k: string
}

function frameText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString()
  if (Array.isArray(data)) return Buffer.concat(data).toString()
  return Buffer.from(data).toString()
}

/**
 * A `ws` WebSocket that reports every text frame it receives before its listeners (the SDK's) see it,
 * until the SDK closes or terminates it: from then on the SDK ignores what the socket still reports,
 * and so does the trace.
 */
function tracedWebSocket(onFrame: (conn: number, text: string) => void, onClosed: (conn: number) => void) {
  let next = 0
  return class TracedWebSocket extends WebSocket {
    #abandoned = false
    readonly #conn = next++
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.on('message', (data, isBinary) => {
        if (!this.#abandoned && !isBinary) onFrame(this.#conn, frameText(data))
      })
      this.on('close', () => {
        if (!this.#abandoned) onClosed(this.#conn)
        this.#abandoned = true
      })
    }
    override close(code?: number, reason?: string | Buffer): void {
      if (!this.#abandoned) onClosed(this.#conn)
      this.#abandoned = true
      super.close(code, reason)
    }
    override terminate(): void {
      if (!this.#abandoned) onClosed(this.#conn)
      this.#abandoned = true
      super.terminate()
    }
  }
}

/** An SDK client on its own {@link LinkProxy}, recording an {@link Observation} trace for one room. */
export class TracedClient {
  readonly index: number
  readonly link: LinkProxy
  readonly roomName: string
  readonly client: Client
  readonly events: Observation[] = []
  /** What the client reported through its `error` event or its logger. */
  readonly errors: unknown[] = []
  room: Room | undefined
  readonly #now: () => number

  constructor(
    index: number,
    link: LinkProxy,
    roomName: string,
    now: () => number,
    options: Partial<ClientOptions> = {},
  ) {
    this.index = index
    this.link = link
    this.roomName = roomName
    this.#now = now
    const WebSocketImpl = tracedWebSocket(
      (conn, text) => this.#onFrame(conn, text),
      (conn) => this.events.push({ t: this.#now(), kind: 'closed', conn }),
    )
    this.client = createClient({
      url: link.url,
      WebSocket: WebSocketImpl,
      leaveGraceMs: 0,
      logger: { error: (_message, error) => this.errors.push(error) },
      ...options,
    })
    this.client.on('error', (error) => this.errors.push(error))
  }

  /** Whether the application holds the room (joined and not left since). */
  get member(): boolean {
    return this.room !== undefined
  }

  #onFrame(conn: number, text: string): void {
    let frame: Record<string, unknown>
    try {
      frame = JSON.parse(text) as Record<string, unknown>
    } catch {
      return
    }
    const t = this.#now()
    switch (frame.type) {
      case 'welcome':
        this.events.push({ t, kind: 'welcome', conn, id: String(frame.id) })
        return
      case 'system':
        if (frame.code === 'shutdown') this.events.push({ t, kind: 'shutdown', conn })
        return
      case 'joined':
        if (frame.room !== this.roomName) return
        this.events.push({
          t,
          kind: 'joined',
          conn,
          epoch: String(frame.epoch),
          seq: Number(frame.seq),
          replay: Number(frame.replay ?? 0),
          recovered: typeof frame.recovered === 'boolean' ? frame.recovered : undefined,
        })
        return
      case 'reset':
        if (frame.room !== this.roomName) return
        this.events.push({ t, kind: 'reset', conn, epoch: String(frame.epoch), seq: Number(frame.seq) })
        return
    }
  }

  /** Join the room (a new handle each time), asking for `history` past messages. */
  join(history: number): Room {
    this.events.push({ t: this.#now(), kind: 'join', history })
    const room = this.client.join(this.roomName, history > 0 ? { history } : undefined)
    this.room = room
    room.onMessage((message) => {
      const data = message.data as Partial<ModelData> | null
      this.events.push({
        t: this.#now(),
        kind: 'deliver',
        epoch: room.getSnapshot().epoch ?? '',
        seq: message.seq,
        key: typeof data?.k === 'string' ? data.k : JSON.stringify(message.data),
        from: message.from,
        own: message.own,
      })
    })
    room.on('resync', (info) => {
      this.events.push({
        t: this.#now(),
        kind: 'resync',
        reason: info.reason,
        epoch: info.epoch,
        seq: info.seq,
      })
    })
    return room
  }

  /** Leave the room (at once: the client runs with `leaveGraceMs: 0`). */
  leave(): void {
    const room = this.room
    if (room === undefined) return
    this.room = undefined
    this.events.push({ t: this.#now(), kind: 'leave' })
    room.leave()
  }

  /** Publish `key` into the room; the record is completed when the promise settles. */
  publish(key: string, echo: boolean, records: PublishRecord[]): Promise<void> {
    const room = this.room
    if (room === undefined) return Promise.resolve()
    const record: PublishRecord = { client: this.index, key, echo, t: this.#now() }
    records.push(record)
    return room.publish('m', { k: key } satisfies ModelData, { echo }).then(
      ({ seq }) => {
        record.settled = { t: this.#now(), ok: true, seq, epoch: room.getSnapshot().epoch }
      },
      (error: { code?: string; message?: string }) => {
        record.settled = {
          t: this.#now(),
          ok: false,
          code: String(error?.code ?? 'unknown'),
          message: String(error?.message ?? error),
        }
      },
    )
  }

  /** Keys delivered since the last `join`. */
  deliveredKeys(): Set<string> {
    const keys = new Set<string>()
    for (let i = this.events.length - 1; i >= 0; i--) {
      const event = this.events[i]!
      if (event.kind === 'join') break
      if (event.kind === 'deliver') keys.add(event.key)
    }
    return keys
  }

  close(): void {
    this.client.close()
  }
}
