import { useEffect, useRef } from 'react'
import { ConnectionPill } from './connection-pill'
import { Logo } from './logo'
import { MeCard } from './me-card'
import { NewRoomForm } from './new-room-form'
import { PeopleList } from './people-list'
import type { Person } from './protocol'
import { RoomList } from './room-list'
import type { RosterEntry } from './use-roster'

interface SidebarProps {
  me: Person
  openRooms: readonly string[]
  active: string
  /** People per room, from the server (`listRooms`). */
  counts: ReadonlyMap<string, number>
  /** Connection lost: the counts are from before it. */
  countsStale: boolean
  unread: ReadonlyMap<string, number>
  people: readonly RosterEntry[]
  online: number
  /** On a phone the sidebar is a drawer: open or not, and how to close it. */
  drawerOpen: boolean
  onCloseDrawer: () => void
  onOpen: (room: string) => void
  onClose: (room: string) => void
  onRename: (name: string) => void
}

export function Sidebar(props: SidebarProps) {
  const { drawerOpen, onCloseDrawer } = props
  const closeButton = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (!drawerOpen) return
    closeButton.current?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onCloseDrawer()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [drawerOpen, onCloseDrawer])
  return (
    <aside id="sidebar" className={drawerOpen ? 'sidebar open' : 'sidebar'} aria-label="Rooms and people">
      <div className="sidebar-top">
        <p className="brand">
          <Logo /> roomwire
        </p>
        <ConnectionPill />
        <button type="button" className="drawer-close quiet" ref={closeButton} onClick={onCloseDrawer}>
          Close
        </button>
      </div>
      <div className="sidebar-scroll">
        <RoomList
          openRooms={props.openRooms}
          active={props.active}
          counts={props.counts}
          countsStale={props.countsStale}
          unread={props.unread}
          onOpen={props.onOpen}
          onClose={props.onClose}
        />
        <NewRoomForm openRooms={props.openRooms} onOpen={props.onOpen} />
        <PeopleList people={props.people} online={props.online} />
      </div>
      <MeCard me={props.me} onRename={props.onRename} />
      <p className="fineprint">
        History lives in the server's memory, the last 100 messages per room. A graceful restart keeps it when
        the server has a state file (as <code>pnpm start</code> sets) or Redis; a crash forgets it.
      </p>
    </aside>
  )
}
