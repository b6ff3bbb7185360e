import { ROOM_NAME_PATTERN } from '@roomwire/protocol'
import { type FormEvent, useId, useState } from 'react'
import { DEFAULT_ROOMS, LOBBY } from './protocol'

interface RoomListProps {
  openRooms: string[]
  active: string
  counts: Map<string, number>
  online: string[]
  onOpen: (room: string) => void
  onSelect: (room: string) => void
  onClose: (room: string) => void
}

export function RoomList({ openRooms, active, counts, online, onOpen, onSelect, onClose }: RoomListProps) {
  const known = [...new Set([...DEFAULT_ROOMS, ...counts.keys()])].filter((r) => r !== LOBBY).sort()
  const others = known.filter((r) => !openRooms.includes(r))
  return (
    <nav className="sidebar" aria-label="Rooms">
      <h2>Your rooms</h2>
      <ul className="room-list">
        {openRooms.map((room) => (
          <li key={room} className={room === active ? 'active' : undefined}>
            <button
              type="button"
              className="room-button"
              aria-current={room === active ? 'page' : undefined}
              onClick={() => onSelect(room)}
            >
              #{room} <span className="count">{counts.get(room) ?? 0}</span>
            </button>
            <button
              type="button"
              className="leave"
              aria-label={`Leave #${room}`}
              onClick={() => onClose(room)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {others.length > 0 && (
        <>
          <h2>More rooms</h2>
          <ul className="room-list">
            {others.map((room) => (
              <li key={room}>
                <button type="button" className="room-button" onClick={() => onOpen(room)}>
                  #{room} <span className="count">{counts.get(room) ?? 0}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <NewRoomForm onOpen={onOpen} />
      <h2>Online ({online.length})</h2>
      <ul className="online">
        {online.map((person, i) => (
          // Two people may pick the same name: the index keeps keys unique.
          <li key={`${person}:${i}`}>{person}</li>
        ))}
      </ul>
    </nav>
  )
}

function NewRoomForm({ onOpen }: { onOpen: (room: string) => void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState('')
  const id = useId()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const room = value.trim()
    if (!ROOM_NAME_PATTERN.test(room) || room === LOBBY) {
      setError('Use 1 to 128 letters, digits or _ - . : / @ (not "lobby").')
      return
    }
    setError('')
    setValue('')
    onOpen(room)
  }
  return (
    <form onSubmit={submit} className="new-room">
      <label htmlFor={id}>Join or create a room</label>
      <div className="row">
        <input
          id={id}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error !== ''}
          aria-describedby={`${id}-error`}
          placeholder="e.g. design"
        />
        <button type="submit">Open</button>
      </div>
      <p id={`${id}-error`} className="error" role="alert">
        {error}
      </p>
    </form>
  )
}
