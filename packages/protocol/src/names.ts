import * as z from 'zod'

/** Room names: 1 to 128 characters of `A-Z a-z 0-9 _ - . : / @`. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_\-.:/@]{1,128}$/
/** Event names: 1 to 64 characters of `A-Z a-z 0-9 _ - . :`. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_\-.:]{1,64}$/

/** Longest string `ref`, connection id, message id or epoch. */
export const MAX_ID_LENGTH = 64

/** How deeply `data` and presence `state` may nest: deeper values are refused before they can blow a stack. */
export const MAX_NESTING_DEPTH = 32

export const RoomNameSchema = z
  .string()
  .regex(ROOM_NAME_PATTERN, 'must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @')

export const EventNameSchema = z
  .string()
  .regex(EVENT_NAME_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 _ - . :')

const idString = (what: string) =>
  z
    .string()
    .min(1, `must be ${what} of 1 to ${MAX_ID_LENGTH} characters`)
    .max(MAX_ID_LENGTH, `must be ${what} of 1 to ${MAX_ID_LENGTH} characters`)

/** A client-chosen correlation id: a string of 1 to 64 characters or a safe integer. */
export const RefSchema = z.custom<string | number>(
  (value) =>
    (typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH) ||
    Number.isSafeInteger(value),
  { error: 'must be a string of 1 to 64 characters or a safe integer' },
)

/** An opaque connection id, unique for the life of the cluster. */
export const ConnectionIdSchema = idString('a connection id')

/** A client-chosen message id used to dedupe retried publishes. */
export const MessageIdSchema = idString('a message id')

/** An opaque name for one unbroken run of a room's `seq`. */
export const EpochSchema = idString('an epoch')

/** A room's sequence number: 0 before the first message, then 1, 2, 3, … */
export const SeqSchema = z
  .int({ error: 'must be a non-negative safe integer' })
  .min(0, 'must be a non-negative safe integer')

/** Whether `value` nests arrays or objects more than `limit` levels deep (never recurses past `limit`). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (limit <= 0) return true
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, limit - 1)) return true
    return false
  }
  for (const key in value) {
    if (nestsDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true
  }
  return false
}

/** Any JSON value (`null` included) that is present and nests at most {@link MAX_NESTING_DEPTH} levels. */
export const PayloadSchema = z
  .unknown()
  .refine((value) => value !== undefined, 'is required')
  .refine(
    (value) => !nestsDeeperThan(value, MAX_NESTING_DEPTH),
    `must not nest more than ${MAX_NESTING_DEPTH} levels deep`,
  )
