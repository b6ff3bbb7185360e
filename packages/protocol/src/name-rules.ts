/**
 * The wire's naming rules as plain values, without zod: the zod schemas in `names.ts` and the hand-written
 * server frame decoder both use them, so a rule and its wording exist once.
 */

/** Room names: 1 to 128 characters of `A-Z a-z 0-9 _ - . : / @`. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_\-.:/@]{1,128}$/
/** Event names: 1 to 64 characters of `A-Z a-z 0-9 _ - . :`. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_\-.:]{1,64}$/

/** Longest string `ref`, connection id, message id or epoch. */
export const MAX_ID_LENGTH = 64

/** How deeply `data` and presence `state` may nest: deeper values are refused before they can blow a stack. */
export const MAX_NESTING_DEPTH = 32

export const ROOM_NAME_RULE = 'must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @'
export const EVENT_NAME_RULE = 'must be 1 to 64 characters of A-Z a-z 0-9 _ - . :'
export const REF_RULE = `must be a string of 1 to ${MAX_ID_LENGTH} characters or a safe integer`
export const SEQ_RULE = 'must be a non-negative safe integer'

/** The rule for an id string, such as `must be a connection id of 1 to 64 characters`. */
export const idRule = (what: string): string => `must be ${what} of 1 to ${MAX_ID_LENGTH} characters`

/** A UTF-16 unit of a surrogate pair standing alone: UTF-8 has no encoding for it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Text a store keeps exactly: a publish id goes to Redis and PostgreSQL as UTF-8, where a lone surrogate
 * becomes U+FFFD (two different ids then match, and the second message is acked as a duplicate and lost)
 * and U+0000 cannot be stored in PostgreSQL text at all.
 */
export const isStorableText = (value: string): boolean => !value.includes('\0') && !LONE_SURROGATE.test(value)

export const STORED_ID_RULE = 'must hold no lone surrogate and no U+0000 (it is stored as UTF-8 text)'

/** Whether `value` is a well-formed `ref`: a string of 1 to 64 characters or a safe integer. */
export function isRef(value: unknown): value is string | number {
  return (
    (typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH) ||
    Number.isSafeInteger(value)
  )
}

/** Whether `value` is a well-formed room name. */
export function isRoomName(value: unknown): value is string {
  return typeof value === 'string' && ROOM_NAME_PATTERN.test(value)
}
