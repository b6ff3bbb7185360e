import { useConnectionStatus } from '@roomwire/react'

const WORDS = {
  idle: 'Offline',
  connecting: 'Connecting',
  open: 'Online',
  reconnecting: 'Offline',
  closed: 'Disconnected',
  unauthorized: 'Refused',
} as const

/** The connection state as a dot and a word; the banner above the room says it in full. */
export function ConnectionPill() {
  const status = useConnectionStatus((s) => s.status)
  return (
    <span className="pill" data-status={status}>
      <span className="dot" aria-hidden="true" />
      {WORDS[status]}
    </span>
  )
}
