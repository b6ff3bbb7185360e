import { canRetry, describeError } from './errors'
import type { ChatMessage } from './messages'

interface DeliveryStateProps {
  message: ChatMessage
  /** Only the newest own message says "Delivered": on the others it would be noise (no label means it arrived). */
  latest: boolean
  offline: boolean
  onRetry: () => void
  onDismiss: () => void
}

/** Where an own message stands: sending (or waiting for the connection), delivered, or failed. */
export function DeliveryState({ message, latest, offline, onRetry, onDismiss }: DeliveryStateProps) {
  switch (message.status) {
    case 'sending':
      return <span className="delivery sending">{offline ? 'Waiting for connection' : 'Sending…'}</span>
    case 'delivered':
      if (!latest) return null
      return (
        <span className="delivery delivered" title="Delivered: the server has it">
          <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path
              d="M3 8.5l3 3 7-7"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
            />
          </svg>
          Delivered
        </span>
      )
    case 'failed':
      return (
        <span className="delivery failed">
          Not sent: {describeError(message.error)}.{' '}
          {canRetry(message.error) && (
            <button type="button" className="link" onClick={onRetry}>
              Retry
            </button>
          )}{' '}
          <button type="button" className="link" onClick={onDismiss}>
            Dismiss
          </button>
        </span>
      )
    default:
      return null
  }
}
