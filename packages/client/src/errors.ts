import type { ErrorCode } from '@roomwire/protocol'

/**
 * Why something failed on the client side. A protocol {@link ErrorCode} when the server refused a message
 * (`rate_limited`, `not_joined`, `invalid_event`, ...), or one of these:
 * - `closed`: `client.close()` was called while the operation was pending;
 * - `timeout`: no `ack` within `ackTimeoutMs` of writing the message to an open socket;
 * - `outbox_full`: the outbox already holds `outbox.maxMessages` messages or `outbox.maxBytes` bytes;
 * - `too_large` (shared with the protocol): the frame is over the server's `maxMessageBytes`, never sent;
 * - `not_connected`: a `direct` message while no connection is open (directs are not queued);
 * - `disconnected`: the connection dropped before a `direct` was acknowledged (it may or may not have arrived);
 * - `left`: the room was left while a publish was waiting;
 * - `unauthorized` (4001 and no new token), `forbidden` (4003), `unsupported` (4400), `stopped` (4500-4999),
 *   `policy` (three 1008 closes in a row), `retries_exhausted` (`reconnect.maxAttempts` reached): the
 *   client stopped reconnecting;
 * - `connection_lost`: the socket closed unexpectedly (the client reconnects);
 * - `connect_timeout`, `heartbeat_timeout`: the client gave up on a socket (and reconnects);
 * - `token`: the token provider threw or rejected;
 * - `bad_frame`: the server sent a frame that does not match the protocol (it was ignored);
 * - `handler_failed`: an application handler threw (the client carried on);
 * - `no_websocket`: no WebSocket constructor in this runtime;
 * - `aborted`: the caller's `signal` aborted a request.
 *
 * A request also rejects with a code its protocol declares in `errors` (an {@link ApplicationErrorCode}).
 */
export type RoomwireErrorCode =
  | ErrorCode
  | 'closed'
  | 'timeout'
  | 'outbox_full'
  | 'not_connected'
  | 'disconnected'
  | 'left'
  | 'unauthorized'
  | 'unsupported'
  | 'stopped'
  | 'policy'
  | 'retries_exhausted'
  | 'connection_lost'
  | 'connect_timeout'
  | 'heartbeat_timeout'
  | 'token'
  | 'bad_frame'
  | 'handler_failed'
  | 'no_websocket'
  | 'aborted'

/**
 * A refusal code an application declares for a request (`errors: ['name_taken']`). Any string, so that
 * `e.code === 'name_taken'` compiles; `defineProtocol` keeps these apart from roomwire's own codes.
 */
export type ApplicationErrorCode = string & {}

/**
 * Marks a {@link RoomwireError} by a registered symbol, so the mark holds across copies of this package: a
 * program that loads both the ESM and the CJS build has two classes, and `instanceof` fails between them.
 */
const BRAND = Symbol.for('roomwire.error')

/**
 * The one error class of `@roomwire/client`. Branch on `code`, never on `message`; test for it with
 * {@link isRoomwireError}.
 * @example
 * try { await room.publish('chat', { text }) } catch (e) {
 *   if (isRoomwireError(e) && e.code === 'rate_limited') showSlowDown()
 * }
 */
export class RoomwireError extends Error {
  override readonly name = 'RoomwireError'
  readonly code: RoomwireErrorCode | ApplicationErrorCode
  readonly [BRAND] = true

  constructor(code: RoomwireErrorCode | ApplicationErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/**
 * Whether `value` is a {@link RoomwireError}, from any copy of `@roomwire/client` in the program (use it
 * rather than `instanceof`, which fails when both its ESM and CJS builds are loaded).
 */
export function isRoomwireError(value: unknown): value is RoomwireError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true
}

/** Refusals the server says to send again after a backoff (PROTOCOL.md, "Errors"); every other code is final. */
export function isRetryable(code: RoomwireErrorCode | ApplicationErrorCode): boolean {
  return code === 'unavailable' || code === 'rate_limited'
}

/** The local refusal of a frame over the server's `maxMessageBytes`: it is never sent, so 1009 cannot loop. */
export function tooLarge(bytes: number, max: number): RoomwireError {
  return new RoomwireError('too_large', `message is ${bytes} bytes, over the server's limit of ${max}`)
}

/** The refusal of a payload the protocol's validator rejected; null when it passed (or none ran). */
export function invalid(
  validation: { success: boolean; error?: { message: string } } | undefined,
): RoomwireError | null {
  if (validation === undefined || validation.success) return null
  return new RoomwireError('invalid_event', validation.error?.message ?? 'invalid payload')
}
