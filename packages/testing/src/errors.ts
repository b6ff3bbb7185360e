/**
 * What went wrong in a test helper:
 * - `timeout`: what a `next` or `waitFor` waited for did not come in time;
 * - `unexpected`: `nothing` saw what it asserts does not come;
 * - `closed`: the client or server closed while something waited;
 * - `refused`: `connect` ended without a connection (the server refused it);
 * - `misuse`: the helper was called in a way that cannot work (a room never joined, a client of
 *   another server, `restart` with an adapter instance).
 */
export type TestErrorCode = 'timeout' | 'unexpected' | 'closed' | 'refused' | 'misuse'

/** The one error class of `@roomwire/testing`; branch on `code`. */
export class RoomwireTestError extends Error {
  override readonly name = 'RoomwireTestError'
  constructor(
    readonly code: TestErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}
