import { hasBrand, REQUEST_ERROR, REQUEST_REFUSAL } from './brand'

/**
 * Thrown by a request handler to refuse with one of the codes its request declares in `errors`; the
 * caller gets a `reply` with that code and message. A code the request does not declare is answered
 * `internal` instead (and logged), like any other throw.
 * @example
 * handlers: {
 *   createRoom: async ({ name }) => {
 *     if (await rooms.has(name)) throw new RequestError('name_taken', 'That name is taken')
 *     return { id: await rooms.create(name) }
 *   },
 * }
 */
export class RequestError<C extends string = string> extends Error {
  override readonly name = 'RequestError'
  readonly [REQUEST_ERROR] = true
  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/**
 * A refusal returned instead of thrown (`return ctx.refuse('name_taken', '...')`): the same answer as a
 * thrown {@link RequestError}, for handlers that treat refusals as values, with the code typed by the
 * request's `errors`.
 */
export class RequestRefusal<C extends string = string> {
  readonly [REQUEST_REFUSAL] = true
  constructor(
    readonly code: C,
    readonly message: string,
  ) {}
}

/**
 * Whether `value` is a {@link RequestError} from any copy of `@roomwire/server` in the program (use it
 * rather than `instanceof`, which fails between the ESM and CJS builds, or beside the reference server's
 * bundle).
 */
export function isRequestError(value: unknown): value is RequestError {
  return hasBrand(value, REQUEST_ERROR)
}

/** Whether `value` is a {@link RequestRefusal} from any copy of `@roomwire/server` in the program. */
export function isRequestRefusal(value: unknown): value is RequestRefusal {
  return hasBrand(value, REQUEST_REFUSAL)
}
