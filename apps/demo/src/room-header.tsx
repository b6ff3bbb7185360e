import type { RoomStatus } from '@roomwire/client'
import { MemberChips } from './member-chips'
import type { RosterEntry } from './use-roster'

interface RoomHeaderProps {
  room: string
  entries: readonly RosterEntry[]
  online: number
  /** `joined`: the member list is the server's current word; `rejoining`: it is what was last known. */
  status: RoomStatus
  /** Opens the rooms drawer on a phone (the button is hidden on wider screens). */
  onMenu: () => void
  unreadElsewhere: number
}

function summary(status: RoomStatus, online: number): string {
  if (status === 'joined') return online === 1 ? 'Only you here' : `${online} people here`
  if (status === 'rejoining') return 'Not connected: showing who was here'
  return status === 'joining' ? 'Joining…' : 'Not joined'
}

export function RoomHeader({ room, entries, online, status, onMenu, unreadElsewhere }: RoomHeaderProps) {
  return (
    <header className="room-header">
      <button type="button" className="menu-button" onClick={onMenu} aria-controls="sidebar">
        <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
          <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
        <span className="visually-hidden">Rooms and people</span>
        {unreadElsewhere > 0 && (
          <span className="menu-badge">
            {unreadElsewhere}
            <span className="visually-hidden"> unread</span>
          </span>
        )}
      </button>
      <div className="room-title">
        <h2>
          <span className="hash" aria-hidden="true">
            #
          </span>
          {room}
        </h2>
        <p className="room-sub">{summary(status, online)}</p>
      </div>
      <MemberChips entries={entries} label="Members here" />
    </header>
  )
}
