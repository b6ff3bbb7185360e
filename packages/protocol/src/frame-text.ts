import type { Ref } from './client-messages'
import { excerpt } from './format-issue'
import { isRef, isRoomName, MAX_NESTING_DEPTH } from './name-rules'
import { fieldNameBefore, findNestingOverflow } from './nesting'

/** What came off a socket: a text frame, or bytes holding UTF-8 text. */
export type RawFrame = string | ArrayBuffer | ArrayBufferView

/** Why a frame could not be decoded. A plain object, not an `Error`: hostile input must be cheap to refuse. */
export interface DecodeError {
  code: 'bad_request' | 'too_large'
  /** A sentence naming the field at fault, such as `room: must be 1 to 128 characters of ...`. */
  message: string
  /** The message's `ref`, when it had a well-formed one, so the reply can carry it. */
  ref?: Ref
  /** The message's `room`, when it had a well-formed one. */
  room?: string
}

/** The outcome of decoding: zod's `{ success, data } | { success, error }` shape. Never thrown. */
export type DecodeResult<T> = { success: true; data: T } | { success: false; error: DecodeError }

export interface DecodeOptions {
  /** Refuse frames over this many UTF-8 bytes with `too_large`. No limit when absent. */
  maxBytes?: number
  /**
   * How many levels of arrays and objects a payload (`data`, presence `state`) may nest; deeper frames
   * are refused with `bad_request` before they are parsed. At most {@link MAX_NESTING_DEPTH}.
   * @default 32
   */
  maxDepth?: number
}

/** A frame's top-level JSON object, before its shape is checked. */
export type FrameObject = Record<string, unknown>

let decoder: TextDecoder | undefined

function toText(raw: RawFrame): string {
  if (typeof raw === 'string') return raw
  decoder ??= new TextDecoder()
  return decoder.decode(raw)
}

function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

function byteLength(raw: RawFrame): number {
  return typeof raw === 'string' ? utf8Length(raw) : raw.byteLength
}

/** A refusal; with the frame's object, it carries the frame's `ref` and `room` when they are well-formed. */
export function fail(
  code: DecodeError['code'],
  message: string,
  input?: FrameObject,
): { success: false; error: DecodeError } {
  const error: DecodeError = { code, message }
  if (input !== undefined) {
    if (isRef(input.ref)) error.ref = input.ref
    if (isRoomName(input.room)) error.room = input.room
  }
  return { success: false, error }
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

/** A field name for an error: as is when it looks like one, else a bounded, quoted excerpt. */
function excerptKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(key) ? key : excerpt(key)
}

/**
 * The checks every frame passes before its shape is looked at: its size, how deep it nests, that it is
 * JSON, and that it is an object. `frameLevels` is how many levels the frame itself adds around its deepest
 * payload.
 */
export function readFrame(
  raw: RawFrame,
  options: DecodeOptions | undefined,
  frameLevels: number,
): DecodeResult<FrameObject> {
  if (options?.maxBytes !== undefined) {
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: count the bytes only when the cheap bounds cannot decide.
    const units = typeof raw === 'string' ? raw.length : raw.byteLength
    if (units > options.maxBytes || (units * 3 > options.maxBytes && byteLength(raw) > options.maxBytes)) {
      return fail('too_large', `message is larger than the limit of ${options.maxBytes} bytes`)
    }
  }
  const text = toText(raw)
  const depth = Math.min(options?.maxDepth ?? MAX_NESTING_DEPTH, MAX_NESTING_DEPTH)
  const overflow = findNestingOverflow(text, depth + frameLevels)
  if (overflow !== undefined) {
    const field = overflow.field === 0 ? undefined : fieldNameBefore(text, overflow.field)
    const where = field === undefined ? 'message' : excerptKey(field)
    return fail('bad_request', `${where}: must not nest more than ${depth} levels deep`)
  }
  let input: unknown
  try {
    input = JSON.parse(text)
  } catch (cause) {
    // V8's message quotes a few characters around the fault; keep it short whatever the frame.
    const detail = cause instanceof Error ? cause.message.slice(0, 120) : 'unreadable'
    return fail('bad_request', `message is not valid JSON (${detail})`)
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail(
      'bad_request',
      `message must be a JSON object with a string "type", not ${describeJsonType(input)}`,
    )
  }
  return { success: true, data: input as FrameObject }
}
