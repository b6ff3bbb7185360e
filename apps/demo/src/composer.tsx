import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react'
import { MAX_TEXT } from './protocol'

/** Typing stops counting after this long without a keystroke. */
const TYPING_IDLE_MS = 2500
/** The character count shows from this share of the limit on. */
const COUNT_FROM = 0.8

const count = (n: number) => n.toLocaleString('en')

interface ComposerProps {
  room: string
  /** The room is on screen: the composer takes the focus (after joining, after switching rooms). */
  active: boolean
  onSend: (text: string) => void
  onTyping: (typing: boolean) => void
}

/**
 * The draft of one room. A draft over the protocol's limit is kept and cannot be sent (Send disabled,
 * Enter does nothing), with the limit in words: the server would refuse it, so it never becomes a failed
 * message whose retry cannot succeed (issue 16).
 */
export function Composer({ room, active, onSend, onTyping }: ComposerProps) {
  const [text, setText] = useState('')
  const id = useId()
  const box = useRef<HTMLTextAreaElement>(null)
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const length = text.trim().length
  const over = length > MAX_TEXT
  const sendable = length > 0 && !over

  useEffect(() => {
    if (active) box.current?.focus()
  }, [active])
  useEffect(() => () => clearTimeout(idle.current), [])

  const typing = (now: boolean) => {
    clearTimeout(idle.current)
    if (now) idle.current = setTimeout(() => onTyping(false), TYPING_IDLE_MS)
    onTyping(now)
  }
  const submit = () => {
    if (!sendable) return
    onSend(text.trim())
    setText('')
    typing(false)
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
      <div className={over ? 'composer-box over' : 'composer-box'}>
        <textarea
          id={id}
          ref={box}
          rows={1}
          value={text}
          placeholder={`Message #${room}`}
          aria-invalid={over}
          aria-describedby={`${id}-limit`}
          onChange={(e) => {
            setText(e.target.value)
            typing(e.target.value.trim() !== '')
          }}
          onBlur={() => typing(false)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary send" disabled={!sendable}>
          Send
        </button>
      </div>
      <div className="composer-foot">
        {/* Live only for the sentence, which changes once when the draft goes over, not per keystroke. */}
        <p id={`${id}-limit`} className="limit" aria-live="polite">
          {over && `Too long to send: messages are at most ${count(MAX_TEXT)} characters.`}
        </p>
        <p className={over ? 'counter over' : 'counter'}>
          {length >= MAX_TEXT * COUNT_FROM && `${count(length)} / ${count(MAX_TEXT)}`}
        </p>
        <p className="hint">
          <kbd>Enter</kbd> to send, <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
        </p>
      </div>
    </form>
  )
}
