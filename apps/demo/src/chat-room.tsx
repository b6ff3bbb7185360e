import { useMessages, useRoom } from '@roomwire/react'
import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react'
import { describeError } from './errors'
import { type Chat, MAX_TEXT } from './protocol'

const TYPING_IDLE_MS = 2500

export function ChatRoom({ room, name, visible }: { room: string; name: string; visible: boolean }) {
  const joined = useRoom<Chat>(room, { presence: { name }, history: 50 })
  const { messages, send, retry, dismiss } = useMessages<Chat>(room, { limit: 200, events: ['chat'] })
  const [stale, setStale] = useState(false)
  const names = new Map(joined.members.map((m) => [m.id, m.presence?.name ?? m.user ?? m.id]))
  const typing = joined.members
    .filter((m) => m.presence?.typing && m.id !== joined.self?.id)
    .map((m) => m.presence?.name)

  useEffect(() => {
    if (joined.room === null) return
    return joined.room.on('resync', () => setStale(true))
  }, [joined.room])

  const listRef = useRef<HTMLOListElement>(null)
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll whenever the list grows
  useEffect(() => {
    const list = listRef.current
    if (list) list.scrollTop = list.scrollHeight
  }, [messages.length, visible])

  return (
    <section className="chat" hidden={!visible} aria-label={`Room ${room}`}>
      <header className="chat-header">
        <h2>#{room}</h2>
        <ul className="members" aria-label="Members here">
          {joined.members.map((m) => (
            <li key={m.id} className={m.id === joined.self?.id ? 'member self' : 'member'}>
              {m.presence?.name ?? m.id}
            </li>
          ))}
        </ul>
      </header>
      {joined.status === 'error' && (
        <p className="error" role="alert">
          Could not join: {describeError(joined.error)}
        </p>
      )}
      {stale && (
        <p className="notice">
          Some messages from while you were away are no longer on the server (history is kept in memory).{' '}
          <button type="button" className="link" onClick={() => setStale(false)}>
            OK
          </button>
        </p>
      )}
      <ol className="messages" ref={listRef} aria-live="polite" aria-label={`Messages in #${room}`}>
        {messages.map((m) => (
          <li
            key={m.key}
            className={`message ${m.own ? 'own' : ''} status-${m.status}`}
            data-status={m.status}
          >
            <span className="author">{m.own ? name : (names.get(m.from ?? '') ?? 'someone who left')}</span>
            <span className="text">{m.data.text}</span>
            <span className="meta">
              {m.status === 'sending' && 'sending…'}
              {m.status === 'delivered' && 'delivered'}
              {m.status === 'failed' && (
                <>
                  <span className="error">not sent: {describeError(m.error)}</span>{' '}
                  <button type="button" className="link" onClick={() => retry(m.key)}>
                    retry
                  </button>{' '}
                  <button type="button" className="link" onClick={() => dismiss(m.key)}>
                    dismiss
                  </button>
                </>
              )}
            </span>
          </li>
        ))}
      </ol>
      <p className="typing" aria-live="polite">
        {typing.length === 1 && `${typing[0]} is typing…`}
        {typing.length > 1 && `${typing.join(', ')} are typing…`}
      </p>
      <Composer
        room={room}
        onSend={(text) => send('chat', { text })}
        onTyping={(t) => joined.setPresence({ name, typing: t })}
      />
    </section>
  )
}

function Composer({
  room,
  onSend,
  onTyping,
}: {
  room: string
  onSend: (text: string) => Promise<void>
  onTyping: (typing: boolean) => Promise<void>
}) {
  const [text, setText] = useState('')
  const id = useId()
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const isTyping = useRef(false)

  const setTyping = (typing: boolean) => {
    clearTimeout(typingTimer.current)
    if (typing) typingTimer.current = setTimeout(() => setTyping(false), TYPING_IDLE_MS)
    if (isTyping.current === typing) return
    isTyping.current = typing
    onTyping(typing).catch(() => {
      // Typing indicators are best effort.
    })
  }
  useEffect(() => () => clearTimeout(typingTimer.current), [])

  const submit = () => {
    if (text.trim() === '') return
    void onSend(text)
    setText('')
    setTyping(false)
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault()
      submit()
    }
  }
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault()
        submit()
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Message #{room}
      </label>
      <textarea
        id={id}
        rows={2}
        value={text}
        placeholder={`Message #${room} (Enter to send, Shift+Enter for a new line)`}
        onChange={(e) => {
          setText(e.target.value)
          setTyping(e.target.value !== '')
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={text.trim() === ''}>
        Send
      </button>
      {text.length > MAX_TEXT && <p className="error">{text.length - MAX_TEXT} characters over the limit.</p>}
    </form>
  )
}
