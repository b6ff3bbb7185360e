import type { ClientMessage, PresenceMessage, PublishMessage, RequestMessage } from './client-messages'
import type { FrameObject } from './frame-text'
import { EVENT_NAME_PATTERN, isRef, isStorableText, MAX_ID_LENGTH, ROOM_NAME_PATTERN } from './name-rules'

/*
 * The hot client frames (`publish`, `request`, `presence`) checked by hand, because zod's parse was the
 * largest cost of a round trip that roomwire owns (issue #20: about 5 µs of echo's ~30). Acceptance only:
 * a frame this does not accept goes to the zod schemas in client-messages.ts, which stay the contract and
 * word every refusal, so error texts and codes cannot drift. decode-client-fast.test.ts checks, on frames
 * generated from the schemas and mutated, that whatever this accepts zod accepts with the same output,
 * and that it accepts every valid frame of its types. Change both together.
 */

const isRoom = (v: unknown): v is string => typeof v === 'string' && ROOM_NAME_PATTERN.test(v)
const isName = (v: unknown): v is string => typeof v === 'string' && EVENT_NAME_PATTERN.test(v)
/**
 * An id within 1 to 64 UTF-16 units. zod counts code points, so an id of 65 to 128 units made of surrogate
 * pairs may still be valid: rare enough to leave to the schema.
 */
const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_LENGTH
/**
 * PayloadSchema: any JSON value that is present and nests at most 32 levels. The nesting needs no walk
 * here: readFrame refused every frame nesting more than its bound (at most 32) plus the message's own
 * level from the text, so a payload of a frame that reached this point is within it.
 */
const isPayload = (v: unknown): v is PublishMessage['data'] => v !== undefined

/** A `publish` as PublishMessageSchema parses it (unknown keys dropped, fields in its order), or undefined. */
function publish(m: FrameObject): PublishMessage | undefined {
  const { room, event, data, echo, id, ref } = m
  if (!isRoom(room) || !isName(event) || !isPayload(data)) return undefined
  if (echo !== undefined && typeof echo !== 'boolean') return undefined
  if (id !== undefined && !(isId(id) && isStorableText(id))) return undefined
  if (ref !== undefined && !isRef(ref)) return undefined
  const out: PublishMessage = { type: 'publish', room, event, data }
  if (echo !== undefined) out.echo = echo
  if (id !== undefined) out.id = id
  if (ref !== undefined) out.ref = ref
  return out
}

/** A `request` as RequestMessageSchema parses it, or undefined. */
function request(m: FrameObject): RequestMessage | undefined {
  const { name, input, room, id, ref } = m
  if (!isName(name) || !isId(id) || !isRef(ref)) return undefined
  if (input !== undefined && !isPayload(input)) return undefined
  if (room !== undefined && !isRoom(room)) return undefined
  const out = { type: 'request', name } as RequestMessage
  if (input !== undefined) out.input = input
  if (room !== undefined) out.room = room
  out.id = id
  out.ref = ref
  return out
}

/** A `presence` as PresenceMessageSchema parses it, or undefined. */
function presence(m: FrameObject): PresenceMessage | undefined {
  const { room, state, ref } = m
  if (!isRoom(room) || !isPayload(state)) return undefined
  if (ref !== undefined && !isRef(ref)) return undefined
  const out: PresenceMessage = { type: 'presence', room, state }
  if (ref !== undefined) out.ref = ref
  return out
}

/**
 * The message a hot frame's object decodes to, exactly as ClientMessageSchema's parse would give it; or
 * undefined for anything else (another type, or a frame with a fault), which the schema then decides.
 * `m` must come from readFrame (client frame levels), which bounded its nesting.
 */
export function decodeHotClientFrame(m: FrameObject): ClientMessage | undefined {
  switch (m.type) {
    case 'publish':
      return publish(m)
    case 'request':
      return request(m)
    case 'presence':
      return presence(m)
    default:
      return undefined
  }
}
