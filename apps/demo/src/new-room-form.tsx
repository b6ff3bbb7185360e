import { isRoomwireError } from '@roomwire/client'
import { useRoomwireClient } from '@roomwire/react'
import { type FormEvent, useId, useState } from 'react'
import { describeError } from './errors'
import { type Chat, ChatRoomNameSchema } from './protocol'

/** What went wrong with the last name tried, and for a taken one, the room to open instead. */
interface Problem {
  text: string
  taken?: string
}

interface NewRoomFormProps {
  /** The rooms you have open: typing one of them just shows it. */
  openRooms: readonly string[]
  onOpen: (room: string) => void
}

/**
 * Start a room of a new name with the `createRoom` request. A name that is someone's room already (people
 * or history) is refused with `name_taken`, and the form offers to open that room instead, so nobody walks
 * into a stranger's conversation by picking the same name.
 */
export function NewRoomForm({ openRooms, onOpen }: NewRoomFormProps) {
  const client = useRoomwireClient<Chat>()
  const [value, setValue] = useState('')
  const [problem, setProblem] = useState<Problem | null>(null)
  const [busy, setBusy] = useState(false)
  const id = useId()
  const taken = problem?.taken
  const opened = (room: string) => {
    setProblem(null)
    setValue('')
    onOpen(room)
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    const name = value.trim().replace(/^#/, '')
    // The request's own schema, so the form refuses exactly what the server would.
    if (!ChatRoomNameSchema.safeParse(name).success) {
      setProblem({ text: 'Use 1 to 128 letters, digits or _ - . : / @ (not "lobby").' })
      return
    }
    if (openRooms.includes(name)) return opened(name)
    setBusy(true)
    setProblem(null)
    try {
      const created = await client.request('createRoom', { name }, { whenOffline: 'fail' })
      opened(created.name)
    } catch (error) {
      if (isRoomwireError(error) && error.code === 'name_taken')
        setProblem({ text: `That name is taken: #${name} is someone's room already.`, taken: name })
      else if (isRoomwireError(error) && error.code === 'disconnected')
        setProblem({ text: 'Not connected: try again when the connection is back.' })
      else
        setProblem({
          text: `Could not create #${name}: ${isRoomwireError(error) ? describeError(error) : 'something went wrong'}.`,
        })
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="new-room" noValidate>
      <label htmlFor={id} className="section-title">
        Create a room
      </label>
      <div className="row">
        <input
          id={id}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={problem !== null}
          aria-describedby={`${id}-error`}
          placeholder="e.g. design"
          autoComplete="off"
        />
        <button type="submit" className="secondary" disabled={busy}>
          {busy ? 'Creating…' : 'Create'}
        </button>
      </div>
      <p id={`${id}-error`} className="field-error" role="alert">
        {problem?.text}
      </p>
      {taken !== undefined && (
        <button type="button" className="link small" onClick={() => opened(taken)}>
          Open #{taken}
        </button>
      )}
    </form>
  )
}
