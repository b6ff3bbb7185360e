/**
 * Error codes the server puts in `error.code`, with what each means.
 * @see PROTOCOL.md, "Errors"
 */
export const ErrorCodes = {
  /** Not JSON, not an object, unknown `type`, or a field missing or of the wrong shape. */
  bad_request: 'bad_request',
  /** A presence state over the presence limit (whole frames over the limit are closed with 1009). */
  too_large: 'too_large',
  /** The connection sent faster than its rate limit allows. */
  rate_limited: 'rate_limited',
  /** Leave, publish or presence in a room this connection has not joined. */
  not_joined: 'not_joined',
  /** The room has as many members as it may. */
  room_full: 'room_full',
  /** This connection has joined as many rooms as it may. */
  too_many_rooms: 'too_many_rooms',
  /** The server's authorization refused the action. */
  forbidden: 'forbidden',
  /** The target of a `direct` message is not connected. */
  not_found: 'not_found',
  /** The application's schema refused `data` or `state`. */
  invalid_event: 'invalid_event',
  /** The server failed while handling the message; nothing else is affected. */
  internal: 'internal',
  /** The server cannot do this right now (its cluster store is unreachable); nothing changed: retry shortly. */
  unavailable: 'unavailable',
  /** The connection already has as many requests being handled as it may (`maxRequestsInFlight`); nothing ran. */
  too_many_requests: 'too_many_requests',
  /** A request's handler did not finish within the server's handler timeout. */
  timeout: 'timeout',
} as const

/** A code the server can send in an `error` frame. */
export type ErrorCode = keyof typeof ErrorCodes

/** Every wire error code, in a stable order (for schemas and exhaustive tests). */
export const ERROR_CODES = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]]

/**
 * WebSocket close codes roomwire uses or reacts to.
 * @see PROTOCOL.md, "Close codes"
 */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  /** Never sent: a connection that died without a close frame. */
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  unauthorized: 4001,
  forbidden: 4003,
  slowConsumer: 4008,
  unsupportedProtocol: 4400,
} as const

/** A named close code value. */
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes]

/**
 * What an SDK client does after a close it did not ask for:
 * - `reconnect`: reconnect with jittered backoff;
 * - `reconnect-slow`: reconnect with a longer backoff (the server is overloaded);
 * - `refresh-token`: ask the token provider once more, else stop;
 * - `policy`: reconnect with backoff, but stop after three in a row without a `welcome`;
 * - `drop-and-reconnect`: drop the message that was too large, then reconnect;
 * - `stop`: do not reconnect.
 */
export type CloseAction =
  | 'reconnect'
  | 'reconnect-slow'
  | 'refresh-token'
  | 'policy'
  | 'drop-and-reconnect'
  | 'stop'

/** Classify a close code by PROTOCOL.md's table, so every client reacts to it the same way. */
export function closeAction(code: number): CloseAction {
  switch (code) {
    case CloseCodes.unauthorized:
      return 'refresh-token'
    case CloseCodes.forbidden:
    case CloseCodes.unsupportedProtocol:
      return 'stop'
    case CloseCodes.policyViolation:
      return 'policy'
    case CloseCodes.messageTooBig:
      return 'drop-and-reconnect'
    case CloseCodes.tryAgainLater:
      return 'reconnect-slow'
  }
  // 4500-4999 are application codes that mean "do not come back"; 4000-4499 are retryable.
  if (code >= 4500 && code <= 4999) return 'stop'
  return 'reconnect'
}
