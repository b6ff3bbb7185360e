import { type FormEvent, useId, useState } from 'react'
import { nameProblem } from './identity'
import { MAX_NAME } from './protocol'

interface NameFormProps {
  initial?: string
  submitLabel: string
  onSubmit: (name: string) => void
  onCancel?: () => void
}

/** A display-name field that says why a name is refused (the schema's rules) instead of doing nothing. */
export function NameForm({ initial = '', submitLabel, onSubmit, onCancel }: NameFormProps) {
  const [value, setValue] = useState(initial)
  const [problem, setProblem] = useState<string | null>(null)
  const id = useId()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const refused = nameProblem(value)
    setProblem(refused)
    if (refused === null) onSubmit(value.trim())
  }
  return (
    <form onSubmit={submit} className="name-form" noValidate>
      <label htmlFor={id}>Display name</label>
      <div className="row">
        <input
          id={id}
          value={value}
          onChange={(e) => {
            setValue(e.target.value)
            if (problem !== null) setProblem(nameProblem(e.target.value))
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && onCancel) onCancel()
          }}
          maxLength={MAX_NAME}
          autoComplete="nickname"
          // The one field on the page, or the one the user just asked for (issue 16).
          // biome-ignore lint/a11y/noAutofocus: focus goes where the user is about to type
          autoFocus
          aria-invalid={problem !== null}
          aria-describedby={`${id}-problem`}
        />
        <button type="submit" className="primary">
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="quiet" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <p id={`${id}-problem`} className="field-error" role="alert">
        {problem}
      </p>
    </form>
  )
}
