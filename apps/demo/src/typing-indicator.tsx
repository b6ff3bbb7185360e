/** Who else is typing, from their presence (`typing: true`). */
export function TypingIndicator({ names }: { names: readonly string[] }) {
  let text = ''
  if (names.length === 1) text = `${names[0]} is typing`
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing`
  else if (names.length > 2) text = `${names.length} people are typing`
  return (
    <p className="typing" aria-live="polite">
      {text && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {text}…
        </>
      )}
    </p>
  )
}
