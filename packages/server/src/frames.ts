import type { Ref } from '@roomwire/protocol'
import type WebSocket from 'ws'
import { type DeflateParams, FrameSet, sharedDeflate } from './deflate-frames'

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

/**
 * An `ack` frame's text, built by hand: it is tiny, fixed in shape and answers most client messages, so
 * skipping an object and JSON.stringify for it shows in the echo benchmark. The same text as
 * `encode({ type: 'ack', ref, seq })`.
 */
export function ackText(ref: Ref, seq?: number): string {
  const head = `{"type":"ack","ref":${typeof ref === 'number' && Number.isFinite(ref) ? String(ref) : JSON.stringify(ref)}`
  return seq === undefined ? `${head}}` : `${head},"seq":${seq}}`
}

/** ws takes a Buffer as binary unless told otherwise; room frames are text. */
const TEXT = { binary: false } as const

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
 * detected, since they are not public API) and either no extension was negotiated or permessage-deflate
 * without server context takeover, whose compressed frames the server makes itself, once per message
 * (deflate-frames.ts). Otherwise undefined, and messages go through `ws.send`, which compresses per socket.
 * On a direct socket ws's sender stays idle, so its pings and close frames are never queued behind
 * compression, and `ws.bufferedAmount` is what the socket itself holds.
 */
function directSender(ws: WebSocket, deflate: DeflateParams | undefined): SenderInternals | undefined {
  if (ws.extensions !== '' && deflate === undefined) return undefined
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
 * Turns a socket's frames of one event-loop turn into one write: every frame of a turn is corked, and the
 * socket is written once when the turn ends (setImmediate), as uWebSockets does. A fan-out to a room
 * then costs one syscall per member, and a burst (a publisher's batch of publishes, several frames for each
 * member) one writev per socket instead of one write per frame. Writing a turn's first frame at once, as
 * this did before, cost a second syscall for every socket that got more than one frame in the turn: fan-out
 * to 1,000 took 1.8x to 2.1x uWS's server CPU per delivery that way on a loaded machine, 1.1x corked
 * (issue 20). The delay is the rest of the turn. Corking only buffers: order is kept, and ws.bufferedAmount
 * still counts what waits, this turn's own batch included: whatever judges a reader by that buffer hands
 * the batch to the kernel first (SocketWriter `write` before its cap, `backlog` for the paced writer).
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

  /** Cork `socket` until this turn ends. */
  cork(socket: Corkable): void {
    socket.cork()
    this.#corked.push(socket)
    if (this.#scheduled) return
    this.#scheduled = true
    // Not unref'd: an unref'd immediate lets the loop sleep in poll, holding corked frames until the next
    // I/O or timer. A ref'd one runs once, at the end of this turn, and keeps nothing alive after.
    // A macrotask boundary, not a timer: it stays on the real event loop whatever clock is injected.
    setImmediate(this.#flush)
  }
}

/** How one frame write ended: written (or queued in ws), the socket is not open, or past the buffer cap. */
export type WriteResult = 'sent' | 'closed' | 'overflow'

/** What a socket's write path needs from its server, the same for every socket. */
export interface WriterHost {
  /** Coalesces each socket's frames of one event-loop turn. */
  readonly writes: WriteCoalescer
  readonly maxBufferedBytes: number
}

/**
 * One socket's write path: frames go straight to ws's sender when it is idle, corked per turn by the
 * shared {@link WriteCoalescer}, and are refused past `maxBufferedBytes` (the caller closes the slow
 * consumer). Otherwise their payload goes through `ws.send`, so nothing overtakes a message ws is still
 * working on. Either way `ws.bufferedAmount` counts it.
 *
 * A base class of the connection rather than an object it holds: its own object was 88 bytes of every
 * idle connection (issue 14's idle-memory figure), and its socket and server were held twice. Its state
 * stays private to this class; the connection only writes through {@link write}.
 */
export class SocketWriter<H extends WriterHost = WriterHost> {
  readonly ws: WebSocket
  /** The server: shared by every connection, so one field for the writer and the connection alike. */
  protected readonly host: H
  readonly #sender: SenderInternals | undefined
  /** What this socket negotiated for compressed frames; undefined: plain frames only. */
  readonly #deflate: DeflateParams | undefined
  readonly #socket: Corkable | undefined
  /** The turn ({@link WriteCoalescer.turn}) this socket was last corked in. */
  #corkedTurn = -1

  constructor(ws: WebSocket, host: H) {
    this.ws = ws
    this.host = host
    this.#deflate = sharedDeflate(ws)
    this.#sender = directSender(ws, this.#deflate)
    const socket = (ws as unknown as { _socket?: Partial<Corkable> })._socket
    this.#socket =
      typeof socket?.cork === 'function' && typeof socket.uncork === 'function'
        ? (socket as Corkable)
        : undefined
  }

  /** Whether this socket takes compressed frames (permessage-deflate without server context takeover). */
  get compresses(): boolean {
    return this.#deflate !== undefined
  }

  /**
   * Write a message: a {@link LazyFrame} (compressed for this socket when it negotiated permessage-deflate,
   * made once for every socket alike), or a plain frame made by {@link textFrame}.
   */
  write(message: LazyFrame | Buffer): WriteResult {
    const frame = message instanceof LazyFrame ? message.for(this.#deflate) : message
    const ws = this.ws
    if (ws.readyState !== 1) return 'closed'
    const { writes, maxBufferedBytes: limit } = this.host
    // A corked batch holds back what the kernel would mostly have taken already: hand it over before
    // judging the buffer (a fast reader must not look slow), and keep batches small.
    if (ws.bufferedAmount + frame.length > Math.min(CORK_BATCH_BYTES, limit)) this.#handOver()
    if (ws.bufferedAmount + frame.length > limit) return 'overflow'
    if (this.#corkedTurn !== writes.turn && this.#socket !== undefined) {
      this.#corkedTurn = writes.turn
      writes.cork(this.#socket)
    }
    const sender = this.#sender
    if (sender !== undefined && sender._queue.length === 0 && !sender._state && !sender._deflating) {
      sender.sendFrame([frame])
    } else ws.send(framePayload(frame), TEXT)
    return 'sent'
  }

  /**
   * What waits for the peer in the socket's buffer, once this turn's corked frames were handed to the
   * kernel: corked bytes are the server's own batch, not the reader's backlog, so a writer that paces
   * itself on the buffer (paced-writer.ts) asks this before it waits for a drain that cannot come until
   * the turn ends. Costs a write only when something is corked.
   */
  backlog(): number {
    this.#handOver()
    return this.ws.bufferedAmount
  }

  /** Write out what is corked in this turn, and cork again for the rest of it. */
  #handOver(): void {
    if (this.#corkedTurn !== this.host.writes.turn) return
    this.#socket!.uncork()
    this.#socket!.cork()
  }
}

/** Counts what was sent: once per fan-out rather than once per socket. */
export type SentCounter = (frames: number, bytes: number) => void

/** A recipient of {@link fanOut}: a connection, written through its own socket writer. */
export interface FrameTarget {
  readonly id: string
  /** A close was started: nothing more is written to it. */
  readonly closing: boolean
  readonly writer: SocketWriter
}

/** Where {@link fanOut} reports: what it sent (once), and each recipient past its send buffer cap. */
export interface FanOutSink<T extends FrameTarget> {
  readonly sent: SentCounter
  overflow(target: T): void
}

/**
 * One message's frame for a fan-out, made on first use: a room whose only member is the publisher, or a
 * direct broadcast that finds nobody, costs no serialisation. Its compressed frames too, once per window
 * size, on the first socket that negotiated permessage-deflate.
 */
export class LazyFrame {
  #text: string | (() => string)
  #frame: Buffer | undefined
  #set: FrameSet | undefined

  constructor(text: string | (() => string)) {
    this.#text = text
  }

  /** Whether the frame was made (someone was written to, or it was buffered). */
  get made(): boolean {
    return this.#frame !== undefined
  }

  get frame(): Buffer {
    if (this.#frame === undefined) {
      const text = this.#text
      this.#frame = textFrame(typeof text === 'string' ? text : text())
    }
    return this.#frame
  }

  /** The frame for a socket that negotiated `deflate` (undefined: the plain frame). */
  for(deflate: DeflateParams | undefined): Buffer {
    if (deflate === undefined) return this.frame
    this.#set ??= new FrameSet(this.frame, framePayload(this.frame))
    return this.#set.for(deflate)
  }
}

/**
 * The one fan-out loop: write `frame` to every open recipient except `skip`, count what was sent once,
 * and report each one past its send buffer cap (the server closes it as a slow consumer). Room deliveries
 * (local-rooms.ts) and direct broadcasts (connection-registry.ts) both end here; a reply to one connection
 * is `Connection.sendText`. Returns how many got it.
 */
export function fanOut<T extends FrameTarget>(
  frame: LazyFrame,
  recipients: Iterable<T>,
  sink: FanOutSink<T>,
  skip?: string,
): number {
  let count = 0
  for (const target of recipients) {
    if (target.id === skip || target.closing) continue
    // Each socket takes the frame it negotiated: plain, or compressed once for all alike.
    const result = target.writer.write(frame)
    if (result === 'sent') count++
    else if (result === 'overflow') sink.overflow(target)
  }
  if (count > 0) sink.sent(count, count * framePayload(frame.frame).length)
  return count
}
