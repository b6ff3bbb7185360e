import { useConnectionStatus, useRoomwireClient } from '@roomwire/react'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { ChatRoom } from './chat-room'
import { ConnectionBanner } from './connection-banner'
import { browserUid, savedName, saveName } from './identity'
import type { Chat } from './protocol'
import { Sidebar } from './sidebar'
import { useLobby } from './use-lobby'
import { useOpenRooms } from './use-open-rooms'
import { useRoomDirectory } from './use-room-directory'
import { Welcome } from './welcome'

export function App() {
  const client = useRoomwireClient<Chat>()
  // The client is yours to try in the browser console: `roomwire.getSnapshot()`, `roomwire.join('general')`.
  useEffect(() => {
    Object.assign(window, { roomwire: client })
  }, [client])
  const [name, setName] = useState(savedName)
  const rename = useCallback((next: string) => {
    saveName(next)
    setName(next)
  }, [])
  return name === '' ? <Welcome onJoin={rename} /> : <ChatApp name={name} onRename={rename} />
}

function ChatApp({ name, onRename }: { name: string; onRename: (name: string) => void }) {
  const [uid] = useState(browserUid)
  const me = useMemo(() => ({ uid, name }), [uid, name])
  const { openRooms, active, open, close } = useOpenRooms()
  const [joined, setJoined] = useState<ReadonlySet<string>>(new Set())
  const onJoined = useCallback((room: string, now: boolean) => {
    setJoined((prev) => {
      if (prev.has(room) === now) return prev
      const next = new Set(prev)
      if (now) next.add(room)
      else next.delete(room)
      return next
    })
  }, [])
  // The lobby hears about a room once the server has you in it, so whoever asks for the list then counts you.
  const lobby = useLobby(
    me,
    openRooms.filter((room) => joined.has(room)),
  )
  const directory = useRoomDirectory(lobby.members)
  const online = useConnectionStatus((s) => s.status === 'open')
  const [drawerOpen, setDrawerOpen] = useState(false)
  const closeDrawer = useCallback(() => setDrawerOpen(false), [])
  const [unread, setUnread] = useState<ReadonlyMap<string, number>>(new Map())
  const onUnread = useCallback((room: string, count: number) => {
    setUnread((prev) => (prev.get(room) === count ? prev : new Map(prev).set(room, count)))
  }, [])
  const unreadTotal = [...unread].reduce((sum, [room, n]) => (openRooms.includes(room) ? sum + n : sum), 0)

  return (
    <div className={drawerOpen ? 'app drawer-open' : 'app'}>
      <Sidebar
        me={me}
        openRooms={openRooms}
        active={active}
        counts={directory.counts}
        countsStale={!online}
        unread={unread}
        people={lobby.people}
        online={lobby.online}
        drawerOpen={drawerOpen}
        onCloseDrawer={closeDrawer}
        onOpen={(room) => {
          open(room)
          closeDrawer()
        }}
        onClose={close}
        onRename={onRename}
      />
      <button type="button" className="backdrop" tabIndex={-1} aria-hidden="true" onClick={closeDrawer} />
      <main className="main">
        <ConnectionBanner />
        {openRooms.length === 0 && (
          <div className="no-rooms">
            <button type="button" className="secondary menu-inline" onClick={() => setDrawerOpen(true)}>
              Rooms
            </button>
            <p>Open a room to start chatting.</p>
          </div>
        )}
        {openRooms.map((room) => (
          <ChatRoom
            key={room}
            room={room}
            me={me}
            active={room === active}
            online={online}
            unreadElsewhere={unreadTotal - (unread.get(room) ?? 0)}
            onUnread={onUnread}
            onJoined={onJoined}
            onMenu={() => setDrawerOpen(true)}
          />
        ))}
      </main>
    </div>
  )
}
