import {
  ConnectionIdSchema,
  EventNameSchema,
  excerpt,
  findNestingOverflow,
  nestsDeeperThan,
  RoomNameSchema,
} from '@roomwire/protocol'
import { RoomServerError } from './errors'

// What the application hands the server (broadcast*, sendDirect, the admin API, data returned by hooks)
// obeys the bounds of what a client sends: a message nested 20,000 levels deep through the admin broadcast
// used to enter history, and every later history join got `internal` (issue 12). Errors quote bounded
// excerpts only: the caller's value may be as hostile as a peer's (the admin API passes one through).

/** The bounds a server-side payload is held to. */
export interface PayloadBounds {
  readonly maxNestingDepth: number
  readonly maxMessageBytes: number
}

function invalid(message: string): RoomServerError {
  return new RoomServerError('invalid_argument', message)
}

/** Throws `invalid_argument` unless `room` is a valid room name. */
export function checkRoom(room: unknown): asserts room is string {
  if (!RoomNameSchema.safeParse(room).success) {
    throw invalid(`room ${excerpt(room)} must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @`)
  }
}

/** Throws `invalid_argument` unless `event` is a valid event name. */
export function checkEvent(event: unknown): asserts event is string {
  if (!EventNameSchema.safeParse(event).success) {
    throw invalid(`event ${excerpt(event)} must be 1 to 64 characters of A-Z a-z 0-9 _ - . :`)
  }
}

/** Throws `invalid_argument` unless `id` could be a connection id. */
export function checkConnectionId(id: unknown, field: string): asserts id is string {
  if (!ConnectionIdSchema.safeParse(id).success) {
    throw invalid(`${field} ${excerpt(id)} is not a connection id (a string of 1 to 64 characters)`)
  }
}

/** Throws `invalid_argument` unless `ids` is a list of possible connection ids. */
export function checkConnectionIds(ids: unknown): asserts ids is readonly string[] {
  if (!Array.isArray(ids)) throw invalid(`connectionIds must be an array, not ${excerpt(ids)}`)
  for (const id of ids) checkConnectionId(id, 'connectionIds: an entry')
}

/**
 * Throws `invalid_argument` unless `value` is a JSON value (`null` included) that nests at most
 * `maxNestingDepth` levels and encodes to at most `maxMessageBytes` bytes. The depth is checked on the
 * value before it is encoded (so encoding cannot recurse deep) and again on the text (a `toJSON` may
 * return something deeper than it looked).
 */
export function checkPayload(value: unknown, field: string, bounds: PayloadBounds): void {
  const depth = bounds.maxNestingDepth
  const tooDeep = () => invalid(`${field}: must not nest more than ${depth} levels deep`)
  if (value === undefined) throw invalid(`${field}: is required (null is a valid value)`)
  if (nestsDeeperThan(value, depth)) throw tooDeep()
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    throw invalid(`${field}: cannot be encoded as JSON (a cycle, a BigInt, or a toJSON that throws)`)
  }
  if (text === undefined) throw invalid(`${field}: must be a JSON value, not ${excerpt(value)}`)
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when the length alone cannot decide.
  if (text.length * 3 > bounds.maxMessageBytes) {
    const bytes = Buffer.byteLength(text)
    if (bytes > bounds.maxMessageBytes) {
      throw invalid(`${field}: is ${bytes} bytes as JSON, over the limit of ${bounds.maxMessageBytes}`)
    }
  }
  if (findNestingOverflow(text, depth) !== undefined) throw tooDeep()
}
