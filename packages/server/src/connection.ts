import { type ClientMessage, encode, type Ref, type ServerMessage } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type WebSocket from 'ws'
import type { ConnectionInfo } from './options'
import { InboundBudget, type InboundRates } from './rate-limiter'

/** ws takes a Buffer as binary unless told otherwise; room frames are text. */
const TEXT = { binary: false } as const

/**
 * A server-to-client text message as a complete WebSocket frame (RFC 6455 section 5.2: FIN, opcode 1, no
 * mask, no RSV bits, 7/16/64-bit length, UTF-8 payload), in one Buffer. A fan-out makes it once and writes
 * the same bytes to every member's socket, as Socket.IO does with its pre-encoded frames, instead of `ws`
 * framing the payload again per socket (a header Buffer, two option objects and a two-buffer writev each).
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text)
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = 0x81
  if (header === 2) frame[1] = length
  else if (header === 4) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  frame.write(text, header, 'utf8')
  return frame
}

/** The payload of a frame made by {@link textFrame}: a view, no copy. */
export function framePayload(frame: Buffer): Buffer {
  const mark = frame[1]
  return frame.subarray(mark === 126 ? 4 : mark === 127 ? 10 : 2)
}

/** The part of ws's Sender used to write a whole frame (what Socket.IO's engine.io uses too). */
interface SenderInternals {
  sendFrame(list: Buffer[]): void
  /** Messages waiting for compression or Blob data: a direct write must not overtake them. */
  _queue: unknown[]
  /** 0 (DEFAULT) when nothing is being compressed or read (ws >= 8.17); absent before. */
  _state?: number
  _deflating?: boolean
}

/**
 * ws's sender of this socket, when frames can be written to it directly: the internals are there (feature
 * detected, since they are not public API) and no extension (permessage-deflate) was negotiated, so ws
 * would not transform the payload. Otherwise undefined, and messages go through `ws.send`.
 */
function directSender(ws: WebSocket): SenderInternals | undefined {
  if (ws.extensions !== '') return undefined
  const sender = (ws as unknown as { _sender?: Partial<SenderInternals> })._sender
  if (typeof sender?.sendFrame !== 'function' || !Array.isArray(sender._queue)) return undefined
  return sender as SenderInternals
}

/** A corked batch is written out once it reaches this size (or the slow-consumer cap, if lower). */
const CORK_BATCH_BYTES = 64 * 1024

/** The part of a net.Socket a connection corks. */
interface Corkable {
  cork(): void
  uncork(): void
}

/**
 * Turns a socket's second and later frames of one event-loop turn into one write: the first frame of a
 * turn is written at once (no added latency for a lone reply or a fan-out), later ones are corked until the
 * turn ends (setImmediate), so a burst (a room filling up sends `member_joined` to every member for every
 * join; a publisher's batch of publishes fans out several frames to each member) costs one writev per
 * socket instead of one write per frame. Corking only buffers: order is kept, and ws.bufferedAmount still
 * counts what waits.
 */
export class WriteCoalescer {
  /** Bumped when a turn with writes ends. */
  turn = 0
  #corked: Corkable[] = []
  #scheduled = false
  readonly #flush = (): void => {
    this.#scheduled = false
    this.turn++
    const corked = this.#corked
    this.#corked = []
    for (const socket of corked) socket.uncork()
  }

  /** A frame is written in this turn: make sure the turn's end is noticed. */
  wrote(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // Not unref'd: an unref'd immediate lets the loop sleep in poll, holding corked frames until the next
    // I/O or timer. A ref'd one runs once, at the end of this turn, and keeps nothing alive after.
    setImmediate(this.#flush)
  }

  /** Cork `socket` until this turn ends. */
  cork(socket: Corkable): void {
    socket.cork()
    this.#corked.push(socket)
  }
}

/** What a connection reports to its server; kept tiny so sends stay cheap. */
export interface ConnectionHost {
  /** Coalesces each socket's frames of one event-loop turn. */
  readonly writes: WriteCoalescer
  /** The server's logger: a connection derives its child (bound to its id) on its first log line. */
  readonly log: Logger
  readonly maxBufferedBytes: number
  readonly closeTimeoutMs: number
  /** Counts frames sent (the caller counts a fan-out once). */
  sent(frames: number, bytes: number): void
  /** The connection passed `maxBufferedBytes`. */
  slowConsumer(connection: Connection): void
}

/**
 * An `ack` frame's text, built by hand: it is tiny, fixed in shape and answers most client messages, so
 * skipping an object and JSON.stringify for it shows in the echo benchmark. The same text as
 * `encode({ type: 'ack', ref, seq })`.
 */
export function ackText(ref: Ref, seq?: number): string {
  const head = `{"type":"ack","ref":${typeof ref === 'number' && Number.isFinite(ref) ? String(ref) : JSON.stringify(ref)}`
  return seq === undefined ? `${head}}` : `${head},"seq":${seq}}`
}

/** A room this connection is in: `pending` while its join waits for the adapter. */
export type RoomMembership = 'pending' | 'joined'

/**
 * One accepted WebSocket: its identity, rooms, rate limit and send path. Kept small, since a server holds
 * tens of thousands of idle ones: the child logger is made on the first log line, and the rooms of a
 * connection in a single room (the common case) are held in two fields, with a Map only for a second room.
 */
export class Connection implements ConnectionInfo {
  readonly id: string
  readonly user: string | undefined
  readonly data: unknown
  readonly remoteAddress: string | undefined
  readonly ws: WebSocket
  /** Last time anything arrived (a frame or a pong). */
  lastSeenAt: number
  lastPingAt: number
  /** Its message and byte budgets and recent refusals (charged by the inbound path, one per frame). */
  readonly budget: InboundBudget
  /** Set once a close was started: nothing more is sent. */
  closing = false
  /** Whether one of its messages is being handled (they are handled one at a time, in order). */
  busy = false
  /** Messages that arrived while busy, oldest first; made when the first one waits. */
  inbox: ClientMessage[] | undefined
  readonly #host: ConnectionHost
  readonly #sender: SenderInternals | undefined
  readonly #socket: Corkable | undefined
  /** The turn ({@link WriteCoalescer.turn}) of this connection's last write, and whether it is corked. */
  #writeTurn = -1
  #corkedTurn = -1
  #closeTimer: ReturnType<typeof setTimeout> | undefined
  #log: Logger | undefined
  /** The one room while there is at most one; undefined with `#moreRooms` when there are several. */
  #room: string | undefined
  #roomState: RoomMembership = 'pending'
  #moreRooms: Map<string, RoomMembership> | undefined

  constructor(init: {
    id: string
    user: string | undefined
    data: unknown
    remoteAddress: string | undefined
    ws: WebSocket
    host: ConnectionHost
    now: number
    /** The server's rate limits, shared by every connection. */
    rates: InboundRates
  }) {
    this.id = init.id
    this.user = init.user
    this.data = init.data
    this.remoteAddress = init.remoteAddress
    this.ws = init.ws
    this.#host = init.host
    this.#sender = directSender(init.ws)
    const socket = (init.ws as unknown as { _socket?: Partial<Corkable> })._socket
    this.#socket =
      typeof socket?.cork === 'function' && typeof socket.uncork === 'function'
        ? (socket as Corkable)
        : undefined
    this.lastSeenAt = init.now
    this.lastPingAt = init.now
    this.budget = new InboundBudget(init.rates, init.now)
  }

  /** This connection's logger (the server's, bound to `conn: id`), made on first use. */
  get log(): Logger {
    this.#log ??= this.#host.log.child({ conn: this.id })
    return this.#log
  }

  /** Whether a log line at `level` would be written: checked before building one for every connection. */
  logs(level: 'info' | 'debug'): boolean {
    return this.#host.log.isLevelEnabled(level)
  }

  /** This connection's state in `room`, or undefined when it is not in it. */
  membership(room: string): RoomMembership | undefined {
    if (this.#moreRooms !== undefined) return this.#moreRooms.get(room)
    return this.#room === room ? this.#roomState : undefined
  }

  /** How many rooms this connection is in or joining. */
  get roomCount(): number {
    if (this.#moreRooms !== undefined) return this.#moreRooms.size
    return this.#room === undefined ? 0 : 1
  }

  /** Record this connection's state in `room`. */
  setMembership(room: string, state: RoomMembership): void {
    if (this.#moreRooms !== undefined) this.#moreRooms.set(room, state)
    else if (this.#room === undefined || this.#room === room) {
      this.#room = room
      this.#roomState = state
    } else {
      this.#moreRooms = new Map([
        [this.#room, this.#roomState],
        [room, state],
      ])
      this.#room = undefined
    }
  }

  /** Forget `room`; back to the two fields once a single room is left. */
  deleteMembership(room: string): void {
    if (this.#moreRooms === undefined) {
      if (this.#room === room) this.#room = undefined
      return
    }
    this.#moreRooms.delete(room)
    if (this.#moreRooms.size <= 1) {
      const [entry] = this.#moreRooms
      this.#moreRooms = undefined
      if (entry !== undefined) [this.#room, this.#roomState] = entry
    }
  }

  /** Every room with this connection's state in it, oldest first; a copy, safe to change while iterating. */
  memberships(): [string, RoomMembership][] {
    if (this.#moreRooms !== undefined) return [...this.#moreRooms]
    return this.#room === undefined ? [] : [[this.#room, this.#roomState]]
  }

  /** Forget every room. */
  clearMemberships(): void {
    this.#room = undefined
    this.#moreRooms = undefined
  }

  /** The hook-facing view: a plain object, so hooks cannot reach the socket. */
  info(): ConnectionInfo {
    return { id: this.id, user: this.user, data: this.data, remoteAddress: this.remoteAddress }
  }

  /** Send one message (serialized here: for a single recipient). */
  send(message: ServerMessage): void {
    this.sendText(encode(message))
  }

  /** Send an `ack` for the message with this `ref` (and the `seq` a publish got). */
  sendAck(ref: Ref, seq?: number): void {
    this.sendText(ackText(ref, seq))
  }

  /** Send one message already serialized. */
  sendText(text: string): void {
    const frame = textFrame(text)
    if (this.sendFrame(frame)) this.#host.sent(1, framePayload(frame).length)
  }

  /**
   * Send a frame made by {@link textFrame} (one for every recipient of a fan-out). Checks the send buffer
   * first: past the cap the connection is closed as a slow consumer instead of buffering more. The frame is
   * written to the socket as is when ws's sender is idle; otherwise its payload goes through `ws.send`, so
   * nothing overtakes a message ws is still working on. Either way `ws.bufferedAmount` counts it.
   */
  sendFrame(frame: Buffer): boolean {
    if (this.closing || this.ws.readyState !== 1) return false
    const writes = this.#host.writes
    const limit = this.#host.maxBufferedBytes
    if (
      this.#corkedTurn === writes.turn &&
      this.ws.bufferedAmount + frame.length > Math.min(CORK_BATCH_BYTES, limit)
    ) {
      // A corked batch holds back what the kernel would mostly have taken already: hand it over before
      // judging the buffer (a fast reader must not look slow), and keep batches small. Corked again after.
      this.#socket!.uncork()
      this.#socket!.cork()
    }
    if (this.ws.bufferedAmount + frame.length > limit) {
      this.#host.slowConsumer(this)
      return false
    }
    if (this.#writeTurn !== writes.turn) {
      this.#writeTurn = writes.turn
      writes.wrote()
    } else if (this.#corkedTurn !== writes.turn && this.#socket !== undefined) {
      this.#corkedTurn = writes.turn
      writes.cork(this.#socket)
    }
    const sender = this.#sender
    if (sender !== undefined && sender._queue.length === 0 && !sender._state && !sender._deflating) {
      sender.sendFrame([frame])
    } else this.ws.send(framePayload(frame), TEXT)
    return true
  }

  /**
   * Start a closing handshake, and destroy the socket if it does not finish within `closeTimeoutMs` (a peer
   * that stopped reading never answers it).
   */
  close(code: number, reason: string, timeoutMs = this.#host.closeTimeoutMs): void {
    if (this.closing) return
    this.closing = true
    try {
      this.ws.close(code, reason)
    } catch {
      this.ws.terminate()
      return
    }
    this.#closeTimer = setTimeout(() => this.ws.terminate(), timeoutMs)
    this.#closeTimer.unref()
  }

  /** Drop the socket at once (heartbeat timeout, shutdown deadline). */
  terminate(): void {
    this.closing = true
    this.ws.terminate()
  }

  /** Release timers once the socket is closed. */
  dispose(): void {
    this.closing = true
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer)
    this.#closeTimer = undefined
  }
}
