import { Avatar } from './avatar'
import type { RosterEntry } from './use-roster'

/** Everyone with the demo open (the lobby), online first; people seen earlier stay, marked offline. */
export function PeopleList({ people, online }: { people: readonly RosterEntry[]; online: number }) {
  return (
    <section className="people" aria-labelledby="people-title">
      <h2 className="section-title" id="people-title">
        Online <span className="muted">{online}</span>
      </h2>
      <ul className="people-list">
        {people.map((person) => (
          <li key={person.uid} className={person.online ? 'person' : 'person offline'}>
            <span className="presence">
              <Avatar uid={person.uid} name={person.name} size="sm" />
              <span className="dot" aria-hidden="true" />
            </span>
            <span className="person-name">{person.name}</span>
            {person.self && <span className="muted"> (you)</span>}
            {!person.online && <span className="muted small"> offline</span>}
          </li>
        ))}
      </ul>
    </section>
  )
}
