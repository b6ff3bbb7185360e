import { useCallback, useEffect, useState } from 'react'
import { ChatRoom } from './chat-room'
import { ConnectionBadge } from './connection-badge'
import { NameForm } from './name-form'
import { DEFAULT_ROOMS } from './protocol'
import { RoomList } from './room-list'
import { useLobby } from './use-lobby'

const NAME_KEY = 'roomwire-demo:name'
const ROOMS_KEY = 'roomwire-demo:rooms'

function readRooms(): string[] {
  try {
    const saved = JSON.parse(localStorage.getItem(ROOMS_KEY) ?? 'null')
    if (Array.isArray(saved) && saved.every((r) => typeof r === 'string') && saved.length > 0) return saved
  } catch {
    // A corrupt entry falls back to the defaults.
  }
  return [DEFAULT_ROOMS[0] as string]
}

export function App() {
  const [name, setName] = useState(() => localStorage.getItem(NAME_KEY) ?? '')
  if (name === '') {
    return (
      <NameForm
        onSubmit={(chosen) => {
          localStorage.setItem(NAME_KEY, chosen)
          setName(chosen)
        }}
      />
    )
  }
  return <Chat name={name} onRename={() => setName('')} />
}

function Chat({ name, onRename }: { name: string; onRename: () => void }) {
  const [openRooms, setOpenRooms] = useState(readRooms)
  const [active, setActive] = useState(() => openRooms[0] ?? 'general')
  useEffect(() => localStorage.setItem(ROOMS_KEY, JSON.stringify(openRooms)), [openRooms])
  const lobby = useLobby(name, openRooms)

  const open = useCallback((room: string) => {
    setOpenRooms((rooms) => (rooms.includes(room) ? rooms : [...rooms, room]))
    setActive(room)
  }, [])
  const close = (room: string) => {
    const next = openRooms.filter((r) => r !== room)
    setOpenRooms(next)
    if (active === room) setActive(next[0] ?? '')
  }

  return (
    <div className="layout">
      <header className="topbar">
        <h1>roomwire chat</h1>
        <ConnectionBadge />
        <p className="me">
          You are <strong>{name}</strong>{' '}
          <button type="button" className="link" onClick={onRename}>
            change name
          </button>
        </p>
      </header>
      <RoomList
        openRooms={openRooms}
        active={active}
        counts={lobby.counts}
        online={lobby.online}
        onOpen={open}
        onSelect={setActive}
        onClose={close}
      />
      <main className="rooms">
        {openRooms.length === 0 && <p className="empty">Open a room on the left to start chatting.</p>}
        {openRooms.map((room) => (
          <ChatRoom key={room} room={room} name={name} visible={room === active} />
        ))}
      </main>
      <footer className="note">
        Messages are kept in the server's memory (the last 100 per room). A graceful restart keeps them when
        the server has a state file (<code>state_file</code>, as <code>pnpm start</code> sets) or Redis (
        <code>redis_url</code>); a crash forgets them.
      </footer>
    </div>
  )
}
