import { ERROR_CODES } from './codes'
import { boundText, unknownTypeText } from './format-issue'
import { type DecodeOptions, type DecodeResult, fail, type RawFrame, readFrame } from './frame-text'
import {
  EVENT_NAME_PATTERN,
  EVENT_NAME_RULE,
  idRule,
  isRef,
  MAX_ID_LENGTH,
  REF_RULE,
  ROOM_NAME_PATTERN,
  ROOM_NAME_RULE,
  SEQ_RULE,
} from './name-rules'
import type { ServerMessage } from './server-messages'
import { PROTOCOL_VERSION } from './version'

/*
 * The server frame decoder the client uses, written by hand so a browser bundle needs no validation
 * library (issue #15). The zod schemas in server-messages.ts stay the contract: decode-server.test.ts
 * checks, on generated and mutated frames, that this decoder accepts and refuses exactly what they do,
 * with the same output and the same error text. Change both together.
 */

/**
 * Levels a server frame adds around its deepest payload: the message object, `joined.members` (an array)
 * and a member object around `presence`.
 */
const SERVER_FRAME_LEVELS = 3

type Out = Record<string | number, unknown>

/**
 * Checks one field's value: writes what it decodes to into `out[key]` and returns undefined, or returns
 * the error text that follows the field's name (`: must be a string`, `.interval: ...`, `[0].id: ...`).
 */
type Field = (value: unknown, out: Out, key: string | number) => string | undefined

/** zod's wording, in the protocol's error map (format-issue.ts), for a value of the wrong type. */
const typeError = (value: unknown, expected: string): string =>
  value === undefined ? 'is required' : `must be ${expected}`

/** A field kept as it is when `problem` finds nothing wrong with it. */
const leaf =
  (problem: (value: unknown) => string | undefined): Field =>
  (value, out, key) => {
    const why = problem(value)
    if (why !== undefined) return `: ${why}`
    out[key] = value
  }

const optional =
  (field: Field): Field =>
  (value, out, key) =>
    value === undefined ? undefined : field(value, out, key)

const isObject = (value: unknown): value is Out =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

const string = leaf((v) => (typeof v === 'string' ? undefined : typeError(v, 'a string')))
const boolean = leaf((v) => (typeof v === 'boolean' ? undefined : typeError(v, 'a boolean')))
const number = leaf((v) => (isNumber(v) ? undefined : typeError(v, 'a number')))
const present = leaf((v) => (v === undefined ? 'is required' : undefined))
const ref = leaf((v) => (isRef(v) ? undefined : REF_RULE))
const seq = leaf((v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : SEQ_RULE))
const literal = (expected: unknown) =>
  leaf((v) => (v === expected ? undefined : `must be ${JSON.stringify(expected)}`))

const TOO_SMALL = 'Too small: expected number to be '
const positive = leaf((v) => (!isNumber(v) ? typeError(v, 'a number') : v > 0 ? undefined : `${TOO_SMALL}>0`))

/** `z.int()` with `.positive()` (`min` 1) or `.min(0)`, in zod's own words past the type. */
const int = (min: 0 | 1) =>
  leaf((v) => {
    if (!isNumber(v)) return typeError(v, 'a number')
    if (!Number.isInteger(v)) return 'must be an integer'
    if (v > Number.MAX_SAFE_INTEGER) return `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`
    if (v < -Number.MAX_SAFE_INTEGER) return `Too small: expected int to be >=${-Number.MAX_SAFE_INTEGER}`
    return v >= min ? undefined : `${TOO_SMALL}${min === 1 ? '>0' : '>=0'}`
  })

const matching = (pattern: RegExp, rule: string) =>
  leaf((v) => (typeof v !== 'string' ? typeError(v, 'a string') : pattern.test(v) ? undefined : rule))

const id = (what: string) =>
  leaf((v) =>
    typeof v !== 'string'
      ? typeError(v, 'a string')
      : v.length >= 1 && v.length <= MAX_ID_LENGTH
        ? undefined
        : idRule(what),
  )

type Shape = Record<string, Field>

/** Decodes the fields of `shape` from `input` into `out`; the error text of the first bad one, in order. */
function decodeShape(shape: Shape, input: Out, out: Out): string | undefined {
  for (const key in shape) {
    const why = shape[key]!(input[key], out, key)
    if (why !== undefined) return key + why
  }
}

/** An object with `shape`'s keys; other keys are dropped, or kept as they are when `loose`. */
const object =
  (shape: Shape, loose = false): Field =>
  (value, out, key) => {
    if (!isObject(value)) return `: ${typeError(value, 'an object')}`
    const decoded: Out = {}
    const why = decodeShape(shape, value, decoded)
    if (why !== undefined) return `.${why}`
    if (loose) {
      for (const name in value) {
        // zod's looseObject does not copy `__proto__` either (it would set the copy's prototype).
        if (!Object.hasOwn(shape, name) && name !== '__proto__') decoded[name] = value[name]
      }
    }
    out[key] = decoded
  }

const array =
  (item: Field): Field =>
  (value, out, key) => {
    if (!Array.isArray(value)) return `: ${typeError(value, 'an array')}`
    const decoded: unknown[] = []
    for (let i = 0; i < value.length; i++) {
      const why = item(value[i], decoded as unknown as Out, i)
      if (why !== undefined) return `[${i}]${why}`
    }
    out[key] = decoded
  }

const room = matching(ROOM_NAME_PATTERN, ROOM_NAME_RULE)
const event = matching(EVENT_NAME_PATTERN, EVENT_NAME_RULE)
const connectionId = id('a connection id')
const epoch = id('an epoch')
const optionalRef = optional(ref)
const member = object({ id: connectionId, user: optional(string), presence: optional(present) })
const members = array(member)
/** One entry of `member_changes`: `joined` (a member) or `left` (its id). */
const memberChange = object({ joined: optional(member), left: optional(connectionId) })
// `z.enum(ERROR_CODES).catch('internal')`: a code from a newer server reads as `internal`.
const errorCode: Field = (value, out, key) => {
  out[key] = (ERROR_CODES as readonly unknown[]).includes(value) ? value : 'internal'
  return undefined
}

/** A `message` frame's fields after `type`: live, and in a `history` page. */
const MESSAGE: Shape = {
  room,
  event,
  data: present,
  from: string,
  user: optional(string),
  seq: int(1),
  ts: number,
  id: optional(id('a message id')),
}

const replyError = object({ code: event, message: string })
/** A reply carries `output` or `error`, not both: `ReplyMessageSchema`'s refine, in its words. */
const replyErrorAlone: Field = (value, out, key) => {
  if (value === undefined) return undefined
  const why = replyError(value, out, key)
  if (why !== undefined) return why
  if (out.output !== undefined) return ': a reply carries output or error, not both'
}

/** Every server message's fields after `type`, in ServerMessageSchema's order (its error lists them so). */
const SHAPES: Record<ServerMessage['type'], Shape> = {
  welcome: {
    id: connectionId,
    user: optional(string),
    protocol: literal(PROTOCOL_VERSION),
    heartbeat: object({ interval: positive, timeout: positive }),
    limits: object(
      {
        maxMessageBytes: int(1),
        maxRoomsPerConnection: int(1),
        maxPresenceBytes: optional(int(1)),
        maxMembersPerRoom: optional(int(1)),
        historySize: optional(int(0)),
        maxNestingDepth: optional(int(1)),
        maxRequestsInFlight: optional(int(1)),
      },
      true,
    ),
  },
  joined: {
    room,
    seq,
    epoch,
    members,
    recovered: optional(boolean),
    replay: optional(seq),
    more: optional(literal(true)),
    count: optional(seq),
    ref: optionalRef,
  },
  members: { room, members, more: optional(literal(true)) },
  left: { room, ref: optionalRef },
  member_joined: { room, member },
  member_left: { room, id: connectionId },
  member_changes: { room, changes: array(memberChange) },
  member_count: { room, count: seq },
  members_page: { room, ref, members, count: seq, more: boolean },
  message: MESSAGE,
  history: {
    room,
    ref,
    epoch,
    messages: array(object({ type: literal('message'), ...MESSAGE })),
    more: boolean,
  },
  direct: { event, data: present, from: string, ts: number },
  presence: { room, id: connectionId, state: present },
  ack: { ref, seq: optional(int(1)) },
  error: { code: errorCode, message: string, ref: optionalRef, room: optional(room) },
  pong: { t: optional(number), ref: optionalRef },
  system: { message: string, code: optional(string) },
  reset: { room, epoch, seq },
  reply: { ref, output: optional(present), error: replyErrorAlone },
}
const TYPES = Object.keys(SHAPES)

/**
 * Decode a frame a server sent. Never throws: returns the typed message, or an error whose code is
 * `bad_request` or `too_large` and whose message names the field at fault. Accepts and refuses exactly
 * what `ServerMessageSchema` does, without loading zod.
 */
export function decodeServerMessage(raw: RawFrame, options?: DecodeOptions): DecodeResult<ServerMessage> {
  const read = readFrame(raw, options, SERVER_FRAME_LEVELS)
  if (!read.success) return read
  const input = read.data
  const type = input.type
  const shape =
    typeof type === 'string' && Object.hasOwn(SHAPES, type) ? SHAPES[type as keyof typeof SHAPES] : undefined
  if (shape === undefined) return fail('bad_request', unknownTypeText(type, TYPES), input)
  const data: Out = { type }
  const why = decodeShape(shape, input, data)
  if (why !== undefined) return fail('bad_request', boundText(why), input)
  return { success: true, data: data as ServerMessage }
}
