import type { IncomingMessage } from 'node:http'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import type { AuthOptions, AuthResult } from './options'

/** Outcome of authenticating an upgrade request. */
export type AuthOutcome =
  | { ok: true; user: string | undefined; data: unknown }
  | { ok: false; reason: string; internal?: boolean }

/** The token of a request: `?token=` first, then `Authorization: Bearer`. */
export function extractToken(request: IncomingMessage): string | undefined {
  const url = request.url ?? ''
  const q = url.indexOf('?')
  if (q !== -1) {
    const token = new URLSearchParams(url.slice(q + 1)).get('token')
    if (token) return token
  }
  const header = request.headers.authorization
  if (typeof header === 'string' && /^bearer /i.test(header)) {
    const token = header.slice(7).trim()
    if (token) return token
  }
  return undefined
}

/** A URL fit for logs: the `token` query parameter's value replaced. */
export function redactUrl(url: string | undefined): string {
  if (url === undefined) return ''
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]')
}

type Verify = (token: string) => Promise<JWTPayload>

/** A JWT verifier for HS256 or a JWKS, or undefined when neither is configured. `alg: none` never passes. */
export function createJwtVerifier(options: AuthOptions): Verify | undefined {
  const clockTolerance = Math.round((options.clockToleranceMs ?? 5000) / 1000)
  if (options.jwtSecret !== undefined) {
    const key = new TextEncoder().encode(options.jwtSecret)
    return async (token) => (await jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance })).payload
  }
  if (options.jwksUrl !== undefined) {
    const jwks = createRemoteJWKSet(new URL(options.jwksUrl))
    return async (token) =>
      (
        await jwtVerify(token, jwks, {
          algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'],
          clockTolerance,
        })
      ).payload
  }
  return undefined
}

function describeJwtError(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code
  if (code === 'ERR_JWT_EXPIRED') return 'token expired'
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'token signature is invalid'
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return 'token algorithm is not allowed'
  if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'token key is unknown'
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return 'token claims are invalid'
  if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC') return 'token keys are unavailable'
  return 'token is invalid'
}

/** Settle `promise` or fail after `ms`, leaving no timer behind. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
const TIMED_OUT = Symbol('timed out')

/** How the server decides who connects: the app's hook, else the JWT verifier, else anonymous. */
export function createAuthenticator(init: {
  authenticate: ((request: IncomingMessage) => AuthResult | null | Promise<AuthResult | null>) | undefined
  auth: AuthOptions
  timeoutMs: number
}): (request: IncomingMessage) => Promise<AuthOutcome> {
  const verify = createJwtVerifier(init.auth)
  const required = init.auth.required ?? false
  return async (request) => {
    if (init.authenticate !== undefined) {
      let result: AuthResult | null | typeof TIMED_OUT
      try {
        result = await withTimeout(Promise.resolve(init.authenticate(request)), init.timeoutMs)
      } catch {
        return { ok: false, reason: 'authentication failed', internal: true }
      }
      if (result === TIMED_OUT) return { ok: false, reason: 'authentication timed out' }
      if (result === null || typeof result !== 'object') return { ok: false, reason: 'unauthorized' }
      return { ok: true, user: typeof result.user === 'string' ? result.user : undefined, data: result.data }
    }
    const token = extractToken(request)
    if (verify === undefined || token === undefined) {
      if (required) return { ok: false, reason: token === undefined ? 'token missing' : 'token not accepted' }
      return { ok: true, user: undefined, data: undefined }
    }
    try {
      const payload = await withTimeout(verify(token), init.timeoutMs)
      if (payload === TIMED_OUT) return { ok: false, reason: 'token keys are unavailable' }
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        return { ok: false, reason: 'token has no sub claim' }
      }
      return { ok: true, user: payload.sub, data: payload }
    } catch (cause) {
      return { ok: false, reason: describeJwtError(cause) }
    }
  }
}
