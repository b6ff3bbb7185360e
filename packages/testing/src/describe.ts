/** Longest description of one value in an error message. */
const MAX_CHARS = 120

/**
 * A short, bounded rendering of a received value for an error message: a few keys and levels deep,
 * strings cut, never recursing past its limits (a value can nest deeply or be large).
 * @example describe({ data: { text: 'hi' }, seq: 3 }) // '{data:{text:"hi"},seq:3}'
 */
export function describe(value: unknown): string {
  const text = render(value, 3)
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text
}

function render(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value !== 'object' || value === null) return String(value)
  if (depth === 0) return Array.isArray(value) ? '[…]' : '{…}'
  if (Array.isArray(value)) {
    const items = value.slice(0, 4).map((item) => render(item, depth - 1))
    return `[${items.join(',')}${value.length > 4 ? `,…${value.length - 4} more` : ''}]`
  }
  const entries = Object.entries(value)
  const shown = entries.slice(0, 6).map(([key, item]) => `${key}:${render(item, depth - 1)}`)
  return `{${shown.join(',')}${entries.length > 6 ? ',…' : ''}}`
}
