import type { ClientSnapshot } from '@roomwire/client'
import { useConnectionStatus, useRoomwireClient } from '@roomwire/react'
import { describeError } from './errors'
import { useCountdown } from './use-countdown'

function sentence({ status, lastError, attempt }: ClientSnapshot): string {
  switch (status) {
    case 'open':
      return 'Connected.'
    case 'reconnecting':
      return 'Connection lost. What you write is sent when it is back.'
    case 'closed':
      return lastError ? `Disconnected: ${describeError(lastError)}.` : 'Disconnected.'
    case 'unauthorized':
      return 'The server refused this connection (not authorized).'
    default:
      return attempt > 0
        ? 'The server cannot be reached yet. What you write is sent once connected.'
        : 'Connecting to the server…'
  }
}

/**
 * The connection in words, with a "Reconnect now" button while it is down. Only the sentence is a live
 * region, and it changes with the state, not every second: the countdown beside it is not announced.
 */
export function ConnectionBanner() {
  const client = useRoomwireClient()
  const snapshot = useConnectionStatus()
  const { status, attempt, retryAt } = snapshot
  const retrying = status === 'reconnecting' || (status === 'connecting' && attempt > 0)
  const seconds = useCountdown(retrying ? retryAt : null)
  // A first connection that has not failed yet is no news: the banner is there for screen readers only.
  const down = retrying || status === 'closed' || status === 'unauthorized'
  return (
    <div className={down ? 'connection-banner' : 'connection-banner silent'} data-status={status}>
      <p role="status">{sentence(snapshot)}</p>
      {down && (
        <p className="connection-retry">
          <span className="countdown" data-countdown="">
            {!retrying ? '' : seconds > 0 ? `Retrying in ${seconds} s` : 'Trying to reconnect…'}
          </span>
          <button type="button" className="secondary" onClick={() => client.reconnect()}>
            Reconnect now
          </button>
        </p>
      )}
    </div>
  )
}
