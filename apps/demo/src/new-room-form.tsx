import { ROOM_NAME_PATTERN } from '@roomwire/protocol'
import { type FormEvent, useId, useState } from 'react'
import { LOBBY } from './protocol'

/**
 * Open a room by name; a room exists as soon as someone joins it. (A typed "create a room" request, and a
 * server-side room list, come with request/reply, issue 17.)
 */
export function NewRoomForm({ onOpen }: { onOpen: (room: string) => void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState('')
  const id = useId()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const room = value.trim().replace(/^#/, '')
    if (!ROOM_NAME_PATTERN.test(room) || room === LOBBY) {
      setError('Use 1 to 128 letters, digits or _ - . : / @ (not "lobby").')
      return
    }
    setError('')
    setValue('')
    onOpen(room)
  }
  return (
    <form onSubmit={submit} className="new-room" noValidate>
      <label htmlFor={id} className="section-title">
        Join or create a room
      </label>
      <div className="row">
        <input
          id={id}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error !== ''}
          aria-describedby={`${id}-error`}
          placeholder="e.g. design"
          autoComplete="off"
        />
        <button type="submit" className="secondary">
          Open
        </button>
      </div>
      <p id={`${id}-error`} className="field-error" role="alert">
        {error}
      </p>
    </form>
  )
}
