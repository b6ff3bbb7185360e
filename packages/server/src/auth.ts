import type { IncomingMessage } from 'node:http'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import type { Clock, TimerHandle } from './clock'
import type { AuthResult } from './hooks'
import type { AuthOptions } from './options'

/** Outcome of authenticating an upgrade request. */
export type AuthOutcome =
  | { ok: true; user: string | undefined; data: unknown }
  | {
      ok: false
      reason: string
      /** The server failed (the `authenticate` hook threw): 1011, not 4001. */
      internal?: boolean
      /** The token could not be checked (a timeout, keys unavailable): not held against the address. */
      unverified?: boolean
    }

/**
 * Whether a query parameter, as `name=value` text, is the token: its name decoded exactly as
 * `URLSearchParams` decodes it (so `%74oken` and `tok%65n` are `token`), compared without case. The one
 * rule for both reading and redacting, so nothing the server reads as a token is logged.
 */
function isTokenParam(pair: string): boolean {
  const eq = pair.indexOf('=')
  const rawName = eq === -1 ? pair : pair.slice(0, eq)
  if (rawName.length > 64) return false
  const [name] = new URLSearchParams(`${rawName}=`).keys()
  return name?.toLowerCase() === 'token'
}

/** The token of a request: the first non-empty `?token=` first, then `Authorization: Bearer`. */
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

/** Longest URL a log line quotes: a peer chooses the URL, up to Node's 16 KiB of headers. */
const MAX_LOGGED_URL = 256

/**
 * A URL fit for logs: the value of every query parameter the server would read as the token replaced
 * (whatever its case or percent-encoding), and the result cut to 256 characters.
 */
export function redactUrl(url: string | undefined): string {
  if (url === undefined) return ''
  const q = url.indexOf('?')
  let redacted = url
  if (q !== -1) {
    const pairs = url.slice(q + 1).split('&')
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]!
      if (!isTokenParam(pair)) continue
      const eq = pair.indexOf('=')
      pairs[i] = `${eq === -1 ? pair : pair.slice(0, eq)}=[redacted]`
    }
    redacted = `${url.slice(0, q)}?${pairs.join('&')}`
  }
  return redacted.length > MAX_LOGGED_URL ? `${redacted.slice(0, MAX_LOGGED_URL)}…` : redacted
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

/** Settle `promise` or fail after `ms` on `clock`, leaving no timer behind. */
function withTimeout<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T | typeof TIMED_OUT> {
  let timer: TimerHandle | undefined
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = clock.setTimeout(() => resolve(TIMED_OUT), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer))
}
const TIMED_OUT = Symbol('timed out')

/** How the server decides who connects: the app's hook, else the JWT verifier, else anonymous. */
export function createAuthenticator(init: {
  authenticate: ((request: IncomingMessage) => AuthResult | null | Promise<AuthResult | null>) | undefined
  auth: AuthOptions
  timeoutMs: number
  /** The server's clock: the timeout runs on it (the system clock's timers are unref'd). */
  clock: Clock
}): (request: IncomingMessage) => Promise<AuthOutcome> {
  const verify = createJwtVerifier(init.auth)
  const required = init.auth.required ?? false
  return async (request) => {
    if (init.authenticate !== undefined) {
      let result: AuthResult | null | typeof TIMED_OUT
      try {
        result = await withTimeout(Promise.resolve(init.authenticate(request)), init.timeoutMs, init.clock)
      } catch {
        return { ok: false, reason: 'authentication failed', internal: true }
      }
      if (result === TIMED_OUT) return { ok: false, reason: 'authentication timed out', unverified: true }
      if (result === null || typeof result !== 'object') return { ok: false, reason: 'unauthorized' }
      return { ok: true, user: typeof result.user === 'string' ? result.user : undefined, data: result.data }
    }
    return checkToken(verify, required, extractToken(request), { ms: init.timeoutMs, clock: init.clock })
  }
}

/** The JWT rule: no verifier or no token is anonymous unless `required`; else the token's `sub` is the user. */
async function checkToken(
  verify: Verify | undefined,
  required: boolean,
  token: string | undefined,
  /** Undefined: the caller bounds the wait (a hook runs within the server's `authTimeoutMs`). */
  timeout: { ms: number; clock: Clock } | undefined,
): Promise<AuthOutcome> {
  if (verify === undefined || token === undefined) {
    if (required) return { ok: false, reason: token === undefined ? 'token missing' : 'token not accepted' }
    return { ok: true, user: undefined, data: undefined }
  }
  try {
    const payload = await (timeout === undefined
      ? verify(token)
      : withTimeout(verify(token), timeout.ms, timeout.clock))
    if (payload === TIMED_OUT) return { ok: false, reason: 'token keys are unavailable', unverified: true }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      return { ok: false, reason: 'token has no sub claim' }
    }
    return { ok: true, user: payload.sub, data: payload }
  } catch (cause) {
    const reason = describeJwtError(cause)
    return reason === 'token keys are unavailable'
      ? { ok: false, reason, unverified: true }
      : { ok: false, reason }
  }
}

/**
 * The server's own JWT check (`auth.jwtSecret` or `auth.jwksUrl`, `auth.required`) as an `authenticate`
 * hook, for an app whose hook takes other credentials too (API keys beside JWTs) and for the testing kit:
 * an `authenticate` hook replaces the JWT check, so composing needs the check as a function. A refused
 * token is `null` (the hook's "unauthorized"; the reason is not kept).
 */
export function jwtAuthenticate(auth: AuthOptions): (request: IncomingMessage) => Promise<AuthResult | null> {
  const verify = createJwtVerifier(auth)
  const required = auth.required ?? false
  return async (request) => {
    const outcome = await checkToken(verify, required, extractToken(request), undefined)
    if (!outcome.ok) return null
    return outcome.user === undefined ? {} : { user: outcome.user, data: outcome.data }
  }
}
