import { Avatar } from './avatar'
import { CollapsibleText } from './collapsible-text'
import { DeliveryState } from './delivery-state'
import type { ChatMessage } from './messages'
import { longTime, shortTime } from './time'

interface MessageItemProps {
  message: ChatMessage
  uid: string
  author: string
  mine: boolean
  /** The newest of your messages in the list. */
  latestMine: boolean
  /** Same author as the message above, a moment later: no avatar and name again. */
  continued: boolean
  offline: boolean
  onRetry: (key: string) => void
  onDismiss: (key: string) => void
}

export function MessageItem({
  message,
  uid,
  author,
  mine,
  latestMine,
  continued,
  offline,
  onRetry,
  onDismiss,
}: MessageItemProps) {
  const time = (
    <time dateTime={new Date(message.ts).toISOString()} title={longTime(message.ts)}>
      {shortTime(message.ts)}
    </time>
  )
  return (
    <li
      className={`message${mine ? ' mine' : ''}${continued ? ' continued' : ''}`}
      data-status={message.status}
    >
      <div className="gutter">{continued ? time : <Avatar uid={uid} name={author} />}</div>
      <div className="body">
        <p className={continued ? 'byline visually-hidden' : 'byline'}>
          <span className="author">{author}</span>
          {mine && <span className="you"> (you)</span>} {!continued && time}
        </p>
        <CollapsibleText text={message.data.text} />
      </div>
      {mine && (
        <div className="state">
          <DeliveryState
            message={message}
            latest={latestMine}
            offline={offline}
            onRetry={() => onRetry(message.key)}
            onDismiss={() => onDismiss(message.key)}
          />
        </div>
      )}
    </li>
  )
}
