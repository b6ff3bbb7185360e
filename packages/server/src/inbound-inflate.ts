import { constants, inflateRawSync } from 'node:zlib'

/**
 * Compressed client messages inflated in the turn that read them (issue 20). ws inflates a compressed
 * frame on its own zlib stream, asynchronously: each message is a threadpool job behind a process-wide
 * queue of 10, and its `message` event comes in a later event-loop turn, alone or with the few jobs that
 * finished with it. A storm of compressed publishes then reaches the fan-out a message or two per turn,
 * not a socket read's worth at a time, and every member's socket pays one write syscall per delivery
 * instead of one per turn (WriteCoalescer in frames.ts): that, and the threadpool round trip, was most of
 * the extra CPU per delivery with compression on (docs/BENCHMARKS.md "Compression storm"). With
 * `client_no_context_takeover` (compression.ts) every message inflates on its own, so a synchronous
 * one-shot inflate (a few µs for 2 KB) is exact and holds no zlib stream between messages.
 */

/** The empty stored block a permessage-deflate sender removed from each message (RFC 7692 7.2.2). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff])

/**
 * zlib's output buffer for inflating `length` compressed bytes: about the text's size (JSON inflates three
 * to five times) so small messages take one buffer from Buffer's shared pool, not zlib's default 16 KiB
 * ArrayBuffer of their own per message (external memory, and GC work, by the megabyte in a storm).
 */
function inflateChunkBytes(length: number): number {
  return Math.min(64 * 1024, Math.max(1024, length * 4))
}

/** ws's receiver state when it waits for a frame header (GET_INFO in ws's receiver.js). */
const GET_INFO = 0

/** The parts of ws's Receiver (8.x) this replaces `decompress` on; feature-detected. */
interface ReceiverInternals {
  decompress(data: Buffer, cb: (error?: Error) => void): void
  dataMessage(cb: (error?: Error) => void): void
  createError(
    ctor: ErrorConstructor | RangeErrorConstructor,
    message: string,
    prefix: boolean,
    statusCode: number,
    errorCode: string,
  ): Error
  _extensions: Record<string, { params?: Record<string, unknown> } | undefined>
  _fin: boolean
  _fragments: Buffer[]
  _messageLength: number
  _maxPayload: number
  _state: number
  _fragmented: number
  _compressed: boolean
}

function receiverOf(ws: unknown): ReceiverInternals | undefined {
  const receiver = (ws as { _receiver?: Partial<ReceiverInternals> })._receiver
  if (
    receiver === undefined ||
    typeof receiver.decompress !== 'function' ||
    typeof receiver.dataMessage !== 'function' ||
    typeof receiver.createError !== 'function' ||
    !Array.isArray(receiver._fragments) ||
    typeof receiver._messageLength !== 'number' ||
    typeof receiver._maxPayload !== 'number'
  ) {
    return undefined
  }
  return receiver as ReceiverInternals
}

/**
 * Make `ws` inflate its compressed client messages synchronously. Only when the client compresses each
 * message from an empty context (`client_no_context_takeover` negotiated) and the socket sits between
 * messages (nothing half received, nothing being inflated); otherwise, or without ws's internals, ws keeps
 * inflating it the usual way. Returns whether it did.
 */
export function inflateInline(ws: unknown): boolean {
  const receiver = receiverOf(ws)
  const params = receiver?._extensions['permessage-deflate']?.params
  if (receiver === undefined || params?.client_no_context_takeover !== true) return false
  if (receiver._state !== GET_INFO || receiver._fragmented !== 0 || receiver._fragments.length > 0) {
    return false
  }
  const bits = params.client_max_window_bits
  const windowBits = typeof bits === 'number' && bits >= 8 && bits <= 15 ? bits : 15
  /** The compressed fragments of a message still coming (rare: clients send whole messages). */
  let pending: Buffer[] = []
  // ws's own decompress minus the asynchrony: same errors, same limits, same fragments, and the message
  // event emitted by dataMessage in this turn (the receiver's loop then goes on with the next frame).
  receiver.decompress = function (this: ReceiverInternals, data, cb) {
    if (!this._fin) {
      if (data.length > 0) pending.push(data)
      this.dataMessage(cb)
      return
    }
    const input = pending.length === 0 ? [data, TRAILER] : [...pending, data, TRAILER]
    pending = []
    const compressed = Buffer.concat(input)
    let buf: Buffer
    try {
      buf = inflateRawSync(compressed, {
        windowBits,
        finishFlush: constants.Z_SYNC_FLUSH,
        chunkSize: inflateChunkBytes(compressed.length),
        // The whole message is bounded by maxPayload, as ws bounds its inflated length.
        ...(this._maxPayload > 0 ? { maxOutputLength: this._maxPayload } : {}),
      })
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      cb(
        tooLarge
          ? this.createError(
              RangeError,
              'Max payload size exceeded',
              false,
              1009,
              'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
            )
          : this.createError(Error, (error as Error).message, false, 1007, 'WS_ERR_INVALID_COMPRESSED_DATA'),
      )
      return
    }
    if (buf.length > 0) {
      this._messageLength += buf.length
      if (this._messageLength > this._maxPayload && this._maxPayload > 0) {
        cb(
          this.createError(
            RangeError,
            'Max payload size exceeded',
            false,
            1009,
            'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
          ),
        )
        return
      }
      this._fragments.push(buf)
    }
    this.dataMessage(cb)
  }
  return true
}
