import { type FormEvent, useId, useState } from 'react'

export function NameForm({ onSubmit }: { onSubmit: (name: string) => void }) {
  const [value, setValue] = useState('')
  const id = useId()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const name = value.trim()
    if (name !== '') onSubmit(name.slice(0, 40))
  }
  return (
    <main className="welcome">
      <h1>roomwire chat</h1>
      <p>Typed real-time rooms over WebSocket. Pick a name to join.</p>
      <form onSubmit={submit} className="name-form">
        <label htmlFor={id}>Display name</label>
        <input
          id={id}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          maxLength={40}
          autoComplete="nickname"
          required
        />
        <button type="submit">Join</button>
      </form>
    </main>
  )
}
