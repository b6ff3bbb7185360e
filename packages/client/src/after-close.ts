import { closeAction } from '@roomwire/protocol'
import type { ConnectionEnd } from './connection'
import { RoomwireError } from './errors'

/** Three 1008 closes in a row without a `welcome` between them stop the client (PROTOCOL.md). */
const MAX_POLICY_CLOSES = 3

/** Where the client stands on retrying when a connection ends. */
export interface RetryState {
  /** The attempt that ended was the one token refresh a 4001 allows. */
  readonly refreshingToken: boolean
  /** 1008 closes in a row without a `welcome` between them. */
  readonly policyCloses: number
  /** The token is a provider, so a 4001 may fetch a fresh one. */
  readonly canRefreshToken: boolean
  /** The least wait after an overloaded close (1013). */
  readonly overloadedMinMs: number
}

/** What to do after a connection ended that the client did not end: stop for good, or retry. */
export type AfterClose =
  | { readonly stop: RoomwireError }
  | {
      readonly stop?: undefined
      /** Added to the backoff delay. */
      readonly extraMs: number
      /** Retry at once, without backoff (the one token refresh). */
      readonly immediate: boolean
      readonly refreshingToken: boolean
      readonly policyCloses: number
    }

/**
 * The close-code table of PROTOCOL.md ("What an SDK client does") as one decision: each close code has
 * one meaning, whatever else happened. Pure, so that it reads as the table it implements.
 */
export function afterClose(end: ConnectionEnd, state: RetryState): AfterClose {
  const retry = (extraMs: number, policyCloses = state.policyCloses, refreshingToken = false) => ({
    extraMs,
    immediate: refreshingToken,
    refreshingToken,
    policyCloses,
  })
  if (end.error.code === 'no_websocket') return { stop: end.error }
  if (end.error.code === 'token' && state.refreshingToken) {
    const error = new RoomwireError('unauthorized', 'the token provider failed after a 4001', {
      cause: end.error,
    })
    return { stop: error }
  }
  const action = end.code === null ? 'reconnect' : closeAction(end.code)
  switch (action) {
    case 'stop':
      return { stop: finalError(end.code ?? 0) }
    case 'refresh-token':
      if (state.canRefreshToken && !state.refreshingToken) return retry(0, state.policyCloses, true)
      return { stop: new RoomwireError('unauthorized', 'the server refused the token (4001)') }
    case 'policy': {
      const policyCloses = state.policyCloses + 1
      if (policyCloses < MAX_POLICY_CLOSES) return retry(0, policyCloses)
      return { stop: new RoomwireError('policy', `${MAX_POLICY_CLOSES} policy closes (1008) in a row`) }
    }
    case 'reconnect-slow':
      return retry(state.overloadedMinMs)
    case 'drop-and-reconnect':
    case 'reconnect':
      return retry(0)
  }
}

function finalError(code: number): RoomwireError {
  if (code === 4003) return new RoomwireError('forbidden', 'the server refused this client (4003)')
  if (code === 4400) return new RoomwireError('unsupported', 'the server does not speak roomwire.v1 (4400)')
  return new RoomwireError('stopped', `the server closed with ${code}, which means do not come back`)
}
