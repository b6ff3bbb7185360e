import { DisplayNameSchema, MAX_NAME } from './protocol'

const UID_KEY = 'roomwire-demo:uid'
const NAME_KEY = 'roomwire-demo:name'

/**
 * This browser's person id, made once and kept in localStorage. `getRandomValues`, not `randomUUID`: the
 * demo is often opened over plain http on a LAN address, which is not a secure context.
 */
export function browserUid(): string {
  const saved = localStorage.getItem(UID_KEY)
  if (saved !== null && saved.length >= 8) return saved
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  const uid = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  localStorage.setItem(UID_KEY, uid)
  return uid
}

export function savedName(): string {
  const parsed = DisplayNameSchema.safeParse(localStorage.getItem(NAME_KEY))
  return parsed.success ? parsed.data : ''
}

export function saveName(name: string): void {
  localStorage.setItem(NAME_KEY, name)
}

/**
 * Why a display name is refused, in words, or null when it is fine. The rules are the schema's, so the
 * form refuses exactly what the server would.
 */
export function nameProblem(value: string): string | null {
  if (DisplayNameSchema.safeParse(value).success) return null
  if (value.trim() === '') {
    return value === '' ? 'Enter a name.' : 'A name cannot be only spaces.'
  }
  return `Use at most ${MAX_NAME} characters.`
}
