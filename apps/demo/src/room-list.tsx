import { DEFAULT_ROOMS, LOBBY } from './protocol'

interface RoomListProps {
  openRooms: readonly string[]
  active: string
  counts: ReadonlyMap<string, number>
  /** The counts are the server's last answer from before the connection was lost: not shown then. */
  countsStale: boolean
  unread: ReadonlyMap<string, number>
  onOpen: (room: string) => void
  onClose: (room: string) => void
}

const people = (n: number) => (n === 1 ? '1 person here' : `${n} people here`)

/** How a room button reads out: "general, 2 unread, 3 people here" (the number alone says nothing). */
const labelOf = (room: string, count: number | undefined, unread: number) =>
  `${room}${unread > 0 ? `, ${unread} unread` : ''}${count === undefined ? '' : `, ${people(count)}`}`

/** A room's name, unread badge and head count, drawn; {@link labelOf} says it in words. */
function RoomLabel({ room, count, unread }: { room: string; count: number | undefined; unread: number }) {
  return (
    <>
      <span className="hash">#</span>
      <span className="room-name">{room}</span>
      {unread > 0 && <span className="unread">{unread > 99 ? '99+' : unread}</span>}
      {count !== undefined && (
        <span className="count" title={people(count)}>
          <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <circle cx="8" cy="5.5" r="2.8" fill="currentColor" />
            <path d="M2.5 14c.6-3 2.8-4.5 5.5-4.5s4.9 1.5 5.5 4.5z" fill="currentColor" />
          </svg>
          {count}
        </span>
      )}
    </>
  )
}

export function RoomList({ openRooms, active, counts, countsStale, unread, onOpen, onClose }: RoomListProps) {
  const countOf = (room: string) => (countsStale ? undefined : (counts.get(room) ?? 0))
  const known = [...new Set([...DEFAULT_ROOMS, ...counts.keys()])].filter((r) => r !== LOBBY).sort()
  const others = known.filter((r) => !openRooms.includes(r))
  return (
    <nav className="room-nav" aria-label="Rooms">
      <h2 className="section-title">Your rooms</h2>
      {openRooms.length === 0 && <p className="muted small">None open. Pick one below.</p>}
      <ul className="room-list">
        {openRooms.map((room) => (
          <li key={room} className={room === active ? 'active' : undefined}>
            <button
              type="button"
              className="room-button"
              aria-label={labelOf(room, countOf(room), unread.get(room) ?? 0)}
              aria-current={room === active ? 'page' : undefined}
              onClick={() => onOpen(room)}
            >
              <RoomLabel room={room} count={countOf(room)} unread={unread.get(room) ?? 0} />
            </button>
            <button
              type="button"
              className="leave"
              aria-label={`Leave #${room}`}
              onClick={() => onClose(room)}
            >
              <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
                <path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
              </svg>
            </button>
          </li>
        ))}
      </ul>
      {others.length > 0 && (
        <>
          <h2 className="section-title">More rooms</h2>
          <ul className="room-list">
            {others.map((room) => (
              <li key={room}>
                <button
                  type="button"
                  className="room-button"
                  aria-label={labelOf(room, countOf(room), 0)}
                  onClick={() => onOpen(room)}
                >
                  <RoomLabel room={room} count={countOf(room)} unread={0} />
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </nav>
  )
}
