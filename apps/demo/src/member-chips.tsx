import type { RosterEntry } from './use-roster'

/** Who is in the room: online with a filled dot, offline dimmed and labelled. */
export function MemberChips({ entries, label }: { entries: readonly RosterEntry[]; label: string }) {
  return (
    <ul className="chips" aria-label={label}>
      {entries.map((person) => (
        <li
          key={person.uid}
          className={`chip${person.online ? '' : ' offline'}${person.self ? ' self' : ''}`}
          data-online={person.online}
        >
          <span className="dot" aria-hidden="true" />
          {person.name}
          {person.self && <span className="chip-note"> (you)</span>}
          {!person.online && <span className="chip-note"> offline</span>}
        </li>
      ))}
    </ul>
  )
}
