import type { RoomStatus } from '@roomwire/client'
import { Fragment, type ReactNode, useLayoutEffect, useRef } from 'react'
import { MessageItem } from './message-item'
import { authorOf, type ChatMessage, isMine } from './messages'

/** Messages of one author within this long of each other read as one block. */
const GROUP_MS = 5 * 60_000

interface MessageListProps {
  room: string
  status: RoomStatus
  messages: readonly ChatMessage[]
  selfUid: string
  selfName: string
  /** Current names by uid (people present or seen this session): a rename shows on old messages too. */
  names: ReadonlyMap<string, { name: string }>
  dividerBefore: string | null
  /** Messages after which some may be missing (a `resync`). */
  gapsAfter: ReadonlySet<string>
  visible: boolean
  offline: boolean
  onRetry: (key: string) => void
  onDismiss: (key: string) => void
  /** Scroll-back: the room has older messages than the list holds (`useMessages().hasOlder`). */
  hasOlder: boolean
  loadingOlder: boolean
  olderFailed: boolean
  onLoadOlder: () => Promise<void>
}

export function MessageList(props: MessageListProps) {
  const { room, status, messages, selfUid, selfName, names, dividerBefore, gapsAfter, visible } = props
  const scroller = useRef<HTMLDivElement>(null)
  const pinned = useRef(true)
  const last = messages.at(-1)
  const lastIsMine = last !== undefined && isMine(last, selfUid)
  let latestMine: string | undefined
  for (const m of messages) if (m.own) latestMine = m.key
  // Where the reader was, measured from the bottom, while older messages are put above: restored after
  // they render so the message they were reading stays where it was.
  const keepFromBottom = useRef<number | null>(null)
  const first = messages[0]?.key

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when older messages were put on top
  useLayoutEffect(() => {
    const el = scroller.current
    if (el === null || keepFromBottom.current === null) return
    el.scrollTop = el.scrollHeight - keepFromBottom.current
    keepFromBottom.current = null
  }, [first])

  const loadOlder = () => {
    const el = scroller.current
    if (el !== null) keepFromBottom.current = el.scrollHeight - el.scrollTop
    void props.onLoadOlder()
  }

  // Follow new messages while the reader is at the bottom, or when they sent one; never yank someone who
  // scrolled up to read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the list grows or is shown
  useLayoutEffect(() => {
    const el = scroller.current
    if (el && visible && (pinned.current || lastIsMine)) el.scrollTop = el.scrollHeight
  }, [messages.length, visible, lastIsMine])

  let body: ReactNode
  if (messages.length === 0) {
    body =
      status === 'joined' ? (
        <div className="empty-room">
          <p className="empty-title">This is the start of #{room}</p>
          <p>No messages yet. Say hello: everyone in the room sees it at once.</p>
        </div>
      ) : (
        <p className="empty-room">{status === 'error' ? '' : `Joining #${room}…`}</p>
      )
  } else {
    body = (
      <>
        {props.hasOlder && (
          <div className="older">
            <button type="button" className="link" onClick={loadOlder} disabled={props.loadingOlder}>
              {props.loadingOlder ? 'Loading earlier messages…' : 'Show earlier messages'}
            </button>
            {props.olderFailed && <span role="alert"> Could not load them; try again.</span>}
          </div>
        )}
        <ol className="messages">
          {messages.map((m, i) => {
            const author = authorOf(m)
            const uid = author?.uid ?? m.from ?? m.key
            const mine = isMine(m, selfUid)
            const name = mine ? selfName : (names.get(uid)?.name ?? author?.name ?? 'someone')
            const prev = messages[i - 1]
            const continued =
              prev !== undefined &&
              m.key !== dividerBefore &&
              !gapsAfter.has(prev.key) &&
              (authorOf(prev)?.uid ?? prev.from) === uid &&
              m.ts - prev.ts < GROUP_MS
            return (
              <Fragment key={m.key}>
                {m.key === dividerBefore && (
                  <li className="divider" aria-label="New messages">
                    <span>New</span>
                  </li>
                )}
                <MessageItem
                  message={m}
                  uid={uid}
                  author={name}
                  mine={mine}
                  latestMine={m.key === latestMine}
                  continued={continued}
                  offline={props.offline}
                  onRetry={props.onRetry}
                  onDismiss={props.onDismiss}
                />
                {gapsAfter.has(m.key) && (
                  <li className="divider gap">
                    <span>Messages may be missing here</span>
                  </li>
                )}
              </Fragment>
            )
          })}
        </ol>
      </>
    )
  }

  return (
    <div
      className="scroller"
      ref={scroller}
      role="log"
      aria-label={`Messages in #${room}`}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48
      }}
    >
      {body}
    </div>
  )
}
