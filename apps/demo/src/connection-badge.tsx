import { useConnectionStatus } from '@roomwire/react'
import { useEffect, useState } from 'react'
import { describeError } from './errors'

/** Connection state in words, with a countdown while waiting to reconnect. */
export function ConnectionBadge() {
  const { status, retryAt, lastError } = useConnectionStatus()
  const seconds = useCountdown(status === 'reconnecting' ? retryAt : null)
  let text: string
  switch (status) {
    case 'open':
      text = 'Connected'
      break
    case 'reconnecting':
      text = seconds > 0 ? `Reconnecting in ${seconds} s…` : 'Reconnecting…'
      break
    case 'unauthorized':
      text = 'Not authorized'
      break
    case 'closed':
      text = lastError ? `Disconnected: ${describeError(lastError)}` : 'Disconnected'
      break
    default:
      text = 'Connecting…'
  }
  return (
    <output className={`badge badge-${status}`} aria-live="polite" data-status={status}>
      <span className="dot" aria-hidden="true" />
      {text}
    </output>
  )
}

function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (until === null) return
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), 250)
    return () => clearInterval(timer)
  }, [until])
  return until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000))
}
