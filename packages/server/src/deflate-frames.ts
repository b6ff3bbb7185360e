import { constants, deflateRawSync } from 'node:zlib'
import { PER_MESSAGE_DEFLATE } from './compression'

/**
 * Compressed fan-out (issue 20). With `server_no_context_takeover` (RFC 7692 section 7.1.1.1) the server
 * starts every message with an empty compression context, so the compressed bytes of a message depend only
 * on the message and the window size: one compressed frame is valid for every member that negotiated
 * permessage-deflate with the same `server_max_window_bits` (a smaller window is decodable by any larger
 * one, section 7.1.2.1). A fan-out compresses once and writes the same bytes to each of them, the way the
 * uncompressed path writes one pre-framed Buffer, instead of ws compressing once per member (behind a
 * process-wide queue of 10 zlib jobs whose backlog counted as the socket's `bufferedAmount`).
 */

/** What a socket negotiated for server-to-client frames, read from ws's extension object. */
export interface DeflateParams {
  /** The server's LZ77 window (8 to 15 bits); 15 when the client set no bound. */
  windowBits: number
}

/** The part of ws's permessage-deflate extension this reads: the negotiated parameters. */
interface DeflateExtension {
  params?: Record<string, unknown>
}

/**
 * The parameters to compress for this socket with, or undefined when frames for it cannot be compressed
 * ahead: no permessage-deflate (plain frames), or negotiated with context takeover (each message would
 * depend on the socket's earlier ones; ws then compresses it, per socket). Feature-detected, since ws's
 * extension objects are not public API.
 */
export function sharedDeflate(ws: unknown): DeflateParams | undefined {
  const ext = (ws as { _extensions?: Record<string, DeflateExtension> })._extensions?.['permessage-deflate']
  const params = ext?.params
  if (params === undefined || params.server_no_context_takeover !== true) return undefined
  const bits = params.server_max_window_bits
  return { windowBits: typeof bits === 'number' && bits >= 8 && bits <= 15 ? bits : 15 }
}

/** Whether a socket negotiated permessage-deflate at all (with or without context takeover). */
export function negotiatedDeflate(ws: unknown): boolean {
  const extensions = (ws as { _extensions?: Record<string, unknown> })._extensions
  return extensions?.['permessage-deflate'] !== undefined
}

/** Messages shorter than this go out uncompressed (RSV1 clear), as ws's `threshold` did. */
export const DEFLATE_THRESHOLD_BYTES = PER_MESSAGE_DEFLATE.threshold ?? 1024

/**
 * The zlib settings of the server's side (compression.ts): the window comes from the negotiation; a small
 * hash table, since JSON's repetitions are mostly short-range.
 */
const MEM_LEVEL = PER_MESSAGE_DEFLATE.zlibDeflateOptions?.memLevel ?? 4

/**
 * A WebSocket frame header for a payload of `length` bytes: FIN, opcode 1 (text), RSV1 when `compressed`
 * (RFC 7692 section 6: the first frame of a compressed message), no mask, 7/16/64-bit length.
 */
export function frameHeader(length: number, compressed: boolean): Buffer {
  const size = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const header = Buffer.allocUnsafe(size)
  header[0] = compressed ? 0xc1 : 0x81
  if (size === 2) header[1] = length
  else if (size === 4) {
    header[1] = 126
    header.writeUInt16BE(length, 2)
  } else {
    header[1] = 127
    header.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2)
    header.writeUInt32BE(length >>> 0, 6)
  }
  return header
}

/**
 * zlib's output buffer for one deflate of `length` bytes: room for the whole result (deflate does not
 * grow text much) in one buffer, so zlib loops and concatenates once at most. Its default, 16 KiB, is an
 * ArrayBuffer of its own per call: external memory that a storm of fan-outs turned into garbage by the
 * tens of megabytes (and GC work); up to 4 KiB comes from Buffer's shared pool instead.
 */
export function outputChunkBytes(length: number): number {
  return Math.min(64 * 1024, Math.max(64, length + 64))
}

/**
 * The payload compressed as one permessage-deflate message (section 7.2.1): raw DEFLATE of the whole
 * payload from an empty context, ended by a sync flush, whose final empty stored block (00 00 FF FF) is
 * removed. Synchronous: one compression per fan-out, whatever the room size (2 KB of JSON: about 17 µs).
 */
export function deflatePayload(payload: Buffer, windowBits: number): Buffer {
  const out = deflateRawSync(payload, {
    windowBits,
    memLevel: MEM_LEVEL,
    finishFlush: constants.Z_SYNC_FLUSH,
    chunkSize: outputChunkBytes(payload.length),
  })
  return out.subarray(0, out.length - 4)
}

/** One complete compressed frame (header and deflated payload in one Buffer) for a text payload. */
export function deflatedFrame(payload: Buffer, windowBits: number): Buffer {
  const body = deflatePayload(payload, windowBits)
  const header = frameHeader(body.length, true)
  return Buffer.concat([header, body], header.length + body.length)
}

/**
 * The frames of one outgoing message, each made at most once however many sockets it goes to: plain, and
 * compressed per negotiated window. A message under the threshold, or one that deflate does not shrink,
 * goes plain to every socket (an uncompressed message is always allowed on a permessage-deflate socket).
 */
export class FrameSet {
  readonly plain: Buffer
  readonly #payload: Buffer
  #deflated: Map<number, Buffer> | undefined

  /** `plain` is the message's uncompressed frame; `payload` a view of its bytes in it. */
  constructor(plain: Buffer, payload: Buffer) {
    this.plain = plain
    this.#payload = payload
  }

  /** The frame for a socket that negotiated `params` (undefined: plain). */
  for(params: DeflateParams | undefined): Buffer {
    if (params === undefined || this.#payload.length < DEFLATE_THRESHOLD_BYTES) return this.plain
    this.#deflated ??= new Map()
    let frame = this.#deflated.get(params.windowBits)
    if (frame === undefined) {
      frame = deflatedFrame(this.#payload, params.windowBits)
      // Incompressible (already compressed data, random ids): plain costs the receiver no inflate.
      if (frame.length >= this.plain.length) frame = this.plain
      this.#deflated.set(params.windowBits, frame)
    }
    return frame
  }
}
