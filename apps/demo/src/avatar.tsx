import type { CSSProperties } from 'react'

/** A person's initial on a soft color picked from their uid, so the same person keeps the same color. */
export function Avatar({ uid, name, size = 'md' }: { uid: string; name: string; size?: 'sm' | 'md' }) {
  let hash = 0
  for (const char of uid) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  return (
    <span
      className={`avatar avatar-${size}`}
      style={{ '--hue': hash % 360 } as CSSProperties}
      aria-hidden="true"
    >
      {[...name.trim()][0]?.toUpperCase() ?? '?'}
    </span>
  )
}
