import { useEffect, useRef, useState } from 'react'
import { Avatar } from './avatar'
import { NameForm } from './name-form'
import type { Person } from './protocol'

/** You, with a rename in place: the rooms stay open and everyone sees the new name at once. */
export function MeCard({ me, onRename }: { me: Person; onRename: (name: string) => void }) {
  const [editing, setEditing] = useState(false)
  const button = useRef<HTMLButtonElement>(null)
  const returnFocus = useRef(false)
  useEffect(() => {
    if (editing || !returnFocus.current) return
    returnFocus.current = false
    button.current?.focus()
  }, [editing])
  const done = () => {
    returnFocus.current = true
    setEditing(false)
  }
  if (editing) {
    return (
      <div className="me editing">
        <NameForm
          initial={me.name}
          submitLabel="Save"
          onSubmit={(name) => {
            onRename(name)
            done()
          }}
          onCancel={done}
        />
      </div>
    )
  }
  return (
    <div className="me">
      <Avatar uid={me.uid} name={me.name} />
      <p className="me-name">
        <span className="muted small">You are</span>
        <strong>{me.name}</strong>
      </p>
      <button type="button" className="quiet" ref={button} onClick={() => setEditing(true)}>
        Rename
      </button>
    </div>
  )
}
