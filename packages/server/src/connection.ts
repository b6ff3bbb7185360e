import { type ClientMessage, encode, type Ref, type ServerMessage } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type WebSocket from 'ws'
import type { Clock, TimerHandle } from './clock'
import {
  ackText,
  type FrameTarget,
  framePayload,
  LazyFrame,
  SocketWriter,
  textFrame,
  type WriterHost,
} from './frames'
import type { ConnectionInfo } from './hooks'
import type { InboundBudget } from './rate-limiter'
import type { RoomSlot } from './room-set'

/** What a connection needs from its server; kept tiny so sends stay cheap. */
export interface ConnectionHost extends WriterHost {
  /** The server's logger: a connection derives its child (bound to its id) on its first log line. */
  readonly log: Logger
  readonly clock: Clock
  /** The clock's reading when the server started: connections keep their times from it (see `#seen`). */
  readonly epoch: number
  readonly closeTimeoutMs: number
  /** Counts frames sent (a fan-out counts itself once, see frames.ts `fanOut`). */
  sent(frames: number, bytes: number): void
  /** The connection passed `maxBufferedBytes`. */
  slowConsumer(connection: Connection): void
}

/** A connection's serial message queue, written only by message-queue.ts. */
export interface MessageQueue {
  /** The run handling this connection's messages, while one is. */
  running: Promise<void> | undefined
  /** Messages that arrived while running, oldest first; made when the first one waits. */
  inbox: ClientMessage[] | undefined
}

/**
 * One accepted WebSocket: its identity, rate limit, liveness and send path. Kept small, since a server
 * holds tens of thousands of idle ones: the child logger is made on the first log line. Its rooms are
 * LocalRooms's (local-rooms.ts), the only book of who is in which room: `rooms` is only that book's slot.
 */
export class Connection
  extends SocketWriter<ConnectionHost>
  implements ConnectionInfo, FrameTarget, MessageQueue
{
  readonly id: string
  readonly user: string | undefined
  readonly data: unknown
  readonly remoteAddress: string | undefined
  /**
   * When anything last arrived (a frame or a pong) and when it was last pinged, as clock time less
   * `host.epoch`: small integers V8 keeps in the field itself, where a clock reading (Date.now()) is a
   * number object of 16 bytes, two of every idle connection (issue 14's figure). Read and written as clock
   * times through `lastSeenAt` and `lastPingAt`.
   */
  #seen: number
  #pinged: number
  /**
   * What its socket had read when the heartbeat last looked ({@link noteTraffic}); -1 when the socket
   * keeps no count (then `pong` and `ping` listeners tell instead). Bytes arriving are what liveness
   * means, and reading the count costs no listener: two more event names on every WebSocket grew its
   * listener table by 96 bytes of every idle connection (issue 20's idle-memory figure).
   */
  #bytesRead: number
  /** Its message and byte budgets and recent refusals (charged by the inbound path, one per frame). */
  readonly budget: InboundBudget
  /** Its serial message queue ({@link MessageQueue}), kept on the connection itself: a record of its own
   * was 40 bytes more of every idle connection. Read and written only by message-queue.ts, through `queue`. */
  running: Promise<void> | undefined = undefined
  inbox: ClientMessage[] | undefined = undefined
  /** Set once a close was started: nothing more is sent. */
  closing = false
  /**
   * The rooms it is in or joining: read and written only by LocalRooms (local-rooms.ts), which owns them,
   * through room-set.ts's slot functions (one joined room is its name alone). A slot here rather than a
   * WeakMap there: the WeakMap's entry was about 70 bytes of every idle connection (issue 14's figure).
   */
  rooms: RoomSlot = undefined

  /** Its messages are handled one at a time, in order (inbound.ts). */
  get queue(): MessageQueue {
    return this
  }
  /**
   * Its socket's write path (frames.ts, the base class: `ws`, the server `host` and the write state are
   * its fields); {@link sendFrame} and `fanOut` write through it.
   */
  get writer(): SocketWriter {
    return this
  }
  #closeTimer: TimerHandle | undefined
  #log: Logger | undefined

  constructor(init: {
    id: string
    user: string | undefined
    data: unknown
    remoteAddress: string | undefined
    ws: WebSocket
    host: ConnectionHost
    now: number
    /** Its inbound budgets: its own, or with rate limits off the one every connection shares. */
    budget: InboundBudget
  }) {
    super(init.ws, init.host)
    this.id = init.id
    this.user = init.user
    this.data = init.data
    this.remoteAddress = init.remoteAddress
    this.#seen = init.now - init.host.epoch
    this.#pinged = this.#seen
    this.budget = init.budget
    this.#bytesRead = socketBytesRead(init.ws) ?? -1
  }

  /** Whether the heartbeat reads liveness off the socket's byte count ({@link noteTraffic}). */
  get countsBytes(): boolean {
    return this.#bytesRead >= 0
  }

  /** A frame arrived at `t`: seen then, with every byte its socket read up to it. */
  sawFrame(t: number): void {
    this.lastSeenAt = t
    if (this.#bytesRead >= 0) this.#bytesRead = socketBytesRead(this.ws) ?? this.#bytesRead
  }

  /**
   * The heartbeat's look at the socket: bytes read since the last frame or look (a pong, a ping, part of
   * a frame) count as seen at `t`, up to a sweep after they came.
   */
  noteTraffic(t: number): void {
    if (this.#bytesRead < 0) return
    const read = socketBytesRead(this.ws) ?? this.#bytesRead
    if (read === this.#bytesRead) return
    this.#bytesRead = read
    this.lastSeenAt = t
  }

  /** Last time anything arrived (a frame or a pong). */
  get lastSeenAt(): number {
    return this.host.epoch + this.#seen
  }
  set lastSeenAt(t: number) {
    this.#seen = t - this.host.epoch
  }

  get lastPingAt(): number {
    return this.host.epoch + this.#pinged
  }
  set lastPingAt(t: number) {
    this.#pinged = t - this.host.epoch
  }

  /** This connection's logger (the server's, bound to `conn: id`), made on first use. */
  get log(): Logger {
    this.#log ??= this.host.log.child({ conn: this.id })
    return this.#log
  }

  /** Whether a log line at `level` would be written: checked before building one for every connection. */
  logs(level: 'info' | 'debug'): boolean {
    return this.host.log.isLevelEnabled(level)
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
    // A reply to one socket: framed at once, unless this socket may get it compressed.
    const frame = this.compresses ? new LazyFrame(text) : textFrame(text)
    if (this.sendFrame(frame))
      this.host.sent(1, framePayload(frame instanceof LazyFrame ? frame.frame : frame).length)
  }

  /**
   * Send a frame made by `textFrame` (one for every recipient of a fan-out). Past the send buffer cap the
   * connection is closed as a slow consumer instead of buffering more. Not counted here (the caller counts).
   */
  sendFrame(frame: LazyFrame | Buffer): boolean {
    if (this.closing) return false
    const result = this.write(frame)
    if (result === 'overflow') this.host.slowConsumer(this)
    return result === 'sent'
  }

  /**
   * Start a closing handshake, and destroy the socket if it does not finish within `closeTimeoutMs` (a peer
   * that stopped reading never answers it).
   */
  close(code: number, reason: string, timeoutMs = this.host.closeTimeoutMs): void {
    if (this.closing) return
    this.closing = true
    try {
      this.ws.close(code, reason)
    } catch {
      this.ws.terminate()
      return
    }
    this.#closeTimer = this.host.clock.setTimeout(() => this.ws.terminate(), timeoutMs)
  }

  /** Drop the socket at once (heartbeat timeout, shutdown deadline). */
  terminate(): void {
    this.closing = true
    this.ws.terminate()
  }

  /** Release timers once the socket is closed. */
  dispose(): void {
    this.closing = true
    if (this.#closeTimer !== undefined) this.host.clock.clearTimeout(this.#closeTimer)
    this.#closeTimer = undefined
  }
}

/** The bytes ws's socket has read (net.Socket and tls.TLSSocket count them); undefined for other duplexes. */
function socketBytesRead(ws: WebSocket): number | undefined {
  const read = (ws as unknown as { _socket?: { bytesRead?: unknown } })._socket?.bytesRead
  return typeof read === 'number' ? read : undefined
}
