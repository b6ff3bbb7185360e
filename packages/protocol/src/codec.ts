import type * as z from 'zod'
import { type ClientMessage, ClientMessageSchema } from './client-messages'
import { decodeHotClientFrame } from './decode-client-fast'
import { describeIssue, formatIssues } from './format-issue'
import {
  type DecodeOptions,
  type DecodeResult,
  type FrameObject,
  fail,
  type RawFrame,
  readFrame,
} from './frame-text'
import type { ServerMessage } from './server-messages'

/**
 * Levels a frame adds around its deepest payload: the message object for client messages (server
 * messages: see decode-server.ts).
 */
const CLIENT_FRAME_LEVELS = 1

const parseParams = { error: describeIssue }

/** Decode a frame with a zod schema: the frame checks of {@link readFrame}, then the schema. */
export function decodeWithSchema<T>(
  schema: z.ZodType<T>,
  raw: RawFrame,
  options: DecodeOptions | undefined,
  frameLevels: number,
): DecodeResult<T> {
  const read = readFrame(raw, options, frameLevels)
  if (!read.success) return read
  return parseFrame(schema, read.data)
}

function parseFrame<T>(schema: z.ZodType<T>, input: FrameObject): DecodeResult<T> {
  // Parse without per-call params first: they turn off zod's compiled fast path. Only a refused message
  // pays for a second parse that words the error for people.
  const result = schema.safeParse(input)
  if (result.success) return { success: true, data: result.data }
  const worded = schema.safeParse(input, parseParams)
  return fail('bad_request', formatIssues(worded.error ?? result.error, input), input)
}

/**
 * Decode a frame a client sent. Never throws: returns the typed message, or an error whose code is
 * `bad_request` or `too_large` and whose message names the field at fault.
 * @example
 * const result = decodeClientMessage(frame, { maxBytes: 65_536 })
 * if (!result.success) socket.send(encode({ type: 'error', ...result.error }))
 */
export function decodeClientMessage(raw: RawFrame, options?: DecodeOptions): DecodeResult<ClientMessage> {
  const read = readFrame(raw, options, CLIENT_FRAME_LEVELS)
  if (!read.success) return read
  // The hot frames are checked by hand (issue #20); the schema decides everything else and words refusals.
  const hot = decodeHotClientFrame(read.data)
  if (hot !== undefined) return { success: true, data: hot }
  return parseFrame(ClientMessageSchema, read.data)
}

/** Serialize a message for the wire: one JSON text frame. */
export function encode(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message)
}
