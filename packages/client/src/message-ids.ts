/**
 * A generator of message ids unique across clients and reconnects: a random prefix per client, then a
 * counter. The server dedupes publishes on the id, so a resend after a reconnect must reuse it and two
 * clients must never collide. The prefix is drawn at the first id, so a client that never publishes
 * touches no randomness.
 */
export function createMessageIds(random: () => number): () => string {
  let prefix: string | null = null
  let counter = 0
  return () => {
    prefix ??= randomPrefix(random)
    return `${prefix}-${(counter++).toString(36)}`
  }
}

/** 9 random bytes in base 36; `crypto.getRandomValues` where there is one, else the injected `random`. */
function randomPrefix(random: () => number): string {
  const crypto = (globalThis as { crypto?: { getRandomValues?(array: Uint8Array): Uint8Array } }).crypto
  const bytes = new Uint8Array(9)
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes)
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256)
  let text = ''
  for (const byte of bytes) text += byte.toString(36).padStart(2, '0')
  return text
}
