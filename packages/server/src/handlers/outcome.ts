import type { ErrorCode } from '@roomwire/protocol'
import { isRoomServerError } from '../errors'

/** A refusal: the client message is answered with an `error` frame of this code and message. */
export interface Refused {
  readonly ok: false
  readonly code: ErrorCode
  readonly message: string
}

/**
 * How a handler or a guard ended: `ok`, or an expected refusal as a value (zod's result shape, without
 * data). A throw is never a refusal: it is a bug, answered `internal` and logged (inbound.ts).
 */
export type Outcome = { readonly ok: true } | Refused

/** A guard's result that carries a value on success (a validated payload). */
export type Checked<T> = { readonly ok: true; readonly value: T } | Refused

/** The one success outcome: shared, since most messages end with it. */
export const OK: Outcome = Object.freeze({ ok: true })

export function refused(code: ErrorCode, message: string): Refused {
  return { ok: false, code, message }
}

/**
 * What an adapter's failure means to the client. A store that is unreachable is expected (the client can
 * retry later), so `RoomServerError('unavailable')` becomes a refusal; anything else is rethrown as the
 * bug it is.
 */
export function storeRefusal(error: unknown): Refused {
  if (isRoomServerError(error) && error.code === 'unavailable') return refused('unavailable', error.message)
  throw error
}
