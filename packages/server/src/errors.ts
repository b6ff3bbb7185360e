import { hasBrand, ROOM_SERVER_ERROR } from './brand'

/** What went wrong, for {@link RoomServerError}. */
export type RoomServerErrorCode =
  /** A configuration value or option is out of range or of the wrong type. */
  | 'invalid_config'
  /** An operation needs something this build or configuration does not have (for example a Redis adapter). */
  | 'unavailable'
  /** The server is closing or closed. */
  | 'closed'
  /** A server-side operation was refused (an unknown room name, an undeclared event). */
  | 'invalid_argument'
  /** The adapter (for example Redis) could not complete an operation. */
  | 'adapter_failed'
  /** A request's caller cancelled it: the reason its handler's signal fires with. */
  | 'cancelled'

/** The one error class of `@roomwire/server`: for programmer and operator errors, never for client input. */
export class RoomServerError extends Error {
  override readonly name = 'RoomServerError'
  readonly [ROOM_SERVER_ERROR] = true
  constructor(
    readonly code: RoomServerErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/**
 * Whether `value` is a {@link RoomServerError} from any copy of `@roomwire/server` in the program (use it
 * rather than `instanceof`, which fails between the ESM and CJS builds, or beside the reference server's
 * bundle).
 */
export function isRoomServerError(value: unknown): value is RoomServerError {
  return hasBrand(value, ROOM_SERVER_ERROR)
}
