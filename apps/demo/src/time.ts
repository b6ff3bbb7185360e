const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const dated = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
})
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' })

/** A message's time: the hour today, the day and hour before. */
export function shortTime(ts: number, now = Date.now()): string {
  return new Date(ts).toDateString() === new Date(now).toDateString() ? clock.format(ts) : dated.format(ts)
}

/** The whole date, for a tooltip. */
export function longTime(ts: number): string {
  return full.format(ts)
}
