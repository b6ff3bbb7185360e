import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { type AuthResult, extractToken, jwtAuthenticate, type RoomServerOptions } from '@roomwire/server'

/** Marks the tokens the kit issues, so an app's own tokens go to the app's `authenticate`. */
const PREFIX = 'roomwire-test.'

/**
 * The users a test server lets in without real tokens: `connect({ user, data })` registers one and
 * the client sends its token. Owned by one test server (no global state).
 */
export class Identities {
  readonly #byToken = new Map<string, AuthResult>()

  /** A token that authenticates as `identity` on this server. */
  issue(identity: AuthResult): string {
    const token = `${PREFIX}${randomUUID()}`
    this.#byToken.set(token, identity)
    return token
  }

  /**
   * The `authenticate` hook the test server installs: the kit's tokens first, then the app's own
   * hook for any other token, else the server's JWT check when `auth` configures one (the kit's hook
   * would otherwise replace it). Without either, a connection with no token is anonymous (as on a server
   * without auth, unless `auth.required`) and any other token is refused.
   */
  authenticate(
    options: Pick<RoomServerOptions, 'authenticate' | 'auth'>,
  ): (request: IncomingMessage) => AuthResult | null | Promise<AuthResult | null> {
    const auth = options.auth
    const jwt =
      auth?.jwtSecret !== undefined || auth?.jwksUrl !== undefined ? jwtAuthenticate(auth) : undefined
    const other = options.authenticate ?? jwt
    return (request) => {
      const token = extractToken(request)
      if (token?.startsWith(PREFIX)) return this.#byToken.get(token) ?? null
      if (other !== undefined) return other(request)
      return token === undefined && auth?.required !== true ? {} : null
    }
  }
}
