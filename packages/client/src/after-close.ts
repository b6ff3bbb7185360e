import { closeAction } from '@roomwire/protocol'
import { backoffDelay, type ReconnectOptions } from './backoff'
import type { ConnectionEnd } from './connection'
import { RoomwireError } from './errors'

/** Three 1008 closes in a row without a `welcome` between them stop the client (PROTOCOL.md). */
const MAX_POLICY_CLOSES = 3

/** What the closes since the last `welcome` (or `reconnect()`) added up to. */
export interface Closes {
  /** The attempt that ended was the one token refresh a 4001 allows. */
  readonly refreshingToken: boolean
  /** 1008 closes in a row. */
  readonly policyCloses: number
}

export const noCloses: Closes = Object.freeze({ refreshingToken: false, policyCloses: 0 })

/** The client's fixed retry settings. */
export interface RetryPolicy {
  /** null: `reconnect: false`. */
  readonly backoff: Required<ReconnectOptions> | null
  readonly random: () => number
  /** The token is a provider, so a 4001 may fetch a fresh one. */
  readonly canRefreshToken: boolean
}

/** After a connection ended that the client did not end: stop for good, or retry after `delayMs`. */
export type AfterClose =
  | { readonly stop: RoomwireError }
  | (Closes & { readonly stop?: undefined; readonly delayMs: number })

/**
 * The close-code table of PROTOCOL.md ("What an SDK client does") and the backoff as one decision:
 * each close code has one meaning, whatever else happened; `attempt` is the failed attempts in a row
 * since the last healthy connection. Pure, so that it reads as the table it implements.
 */
export function afterClose(
  end: ConnectionEnd,
  closes: Closes,
  attempt: number,
  policy: RetryPolicy,
): AfterClose {
  const { backoff } = policy
  const retry = (extraMs: number, next: Closes = { ...closes, refreshingToken: false }): AfterClose => {
    if (backoff === null)
      return { stop: new RoomwireError('connection_lost', 'the connection closed (reconnect: false)') }
    if (attempt >= backoff.maxAttempts) {
      // The last attempt's error says why, in the message too: it is what a UI shows once the client stops.
      const tries = attempt === 1 ? '1 attempt' : `${attempt} attempts`
      return {
        stop: new RoomwireError('retries_exhausted', `gave up after ${tries}: ${end.error.message}`, {
          cause: end.error,
        }),
      }
    }
    // The one token refresh goes at once after a healthy connection (attempt 0); everything else waits out
    // the jittered backoff. A server that welcomes and then closes 4001 each time restarts the refresh at
    // every welcome: at once every time, that was 120 reconnects and token fetches a second.
    const delayMs =
      next.refreshingToken && attempt === 0 ? 0 : backoffDelay(attempt, backoff, policy.random) + extraMs
    return { ...next, delayMs }
  }
  if (end.error.code === 'no_websocket') return { stop: end.error }
  if (end.error.code === 'token' && closes.refreshingToken) {
    const error = new RoomwireError('unauthorized', 'the token provider failed after a 4001', {
      cause: end.error,
    })
    return { stop: error }
  }
  switch (end.code === null ? 'reconnect' : closeAction(end.code)) {
    case 'stop':
      return { stop: finalError(end.code ?? 0, end.reason) }
    case 'refresh-token':
      if (policy.canRefreshToken && !closes.refreshingToken)
        return retry(0, { ...closes, refreshingToken: true })
      return {
        stop: new RoomwireError('unauthorized', `the server refused the token (${said(4001, end.reason)})`),
      }
    case 'policy': {
      const policyCloses = closes.policyCloses + 1
      if (policyCloses < MAX_POLICY_CLOSES) return retry(0, { refreshingToken: false, policyCloses })
      return { stop: new RoomwireError('policy', `${MAX_POLICY_CLOSES} policy closes (1008) in a row`) }
    }
    case 'reconnect-slow':
      return retry(backoff?.overloadedMinMs ?? 0)
    case 'drop-and-reconnect':
    case 'reconnect':
      return retry(0)
  }
}

/** A close code with the server's reason beside it ("token missing", "token expired"), when it gave one. */
function said(code: number, reason: string): string {
  return reason === '' ? String(code) : `${code}: ${reason}`
}

function finalError(code: number, reason: string): RoomwireError {
  if (code === 4003)
    return new RoomwireError('forbidden', `the server refused this client (${said(code, reason)})`)
  if (code === 4400)
    return new RoomwireError('unsupported', `the server does not speak roomwire.v1 (${said(code, reason)})`)
  return new RoomwireError(
    'stopped',
    `the server closed with ${said(code, reason)}, which means do not come back`,
  )
}
