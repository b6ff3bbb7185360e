import { useId, useState } from 'react'

/** Longer than this many characters or lines, a message starts collapsed. */
const LONG_CHARS = 600
const LONG_LINES = 8

/** A message's text; a long one is cut to a few lines with "Show more" (issue 16). */
export function CollapsibleText({ text }: { text: string }) {
  const long = text.length > LONG_CHARS || text.split('\n').length > LONG_LINES
  const [open, setOpen] = useState(false)
  const id = useId()
  return (
    <>
      <p id={id} className={long && !open ? 'text collapsed' : 'text'}>
        {text}
      </p>
      {long && (
        <button
          type="button"
          className="show-more"
          aria-expanded={open}
          aria-controls={id}
          onClick={() => setOpen(!open)}
        >
          {open ? 'Show less' : 'Show more'}
        </button>
      )}
    </>
  )
}
