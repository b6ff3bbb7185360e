import type { RoomBroadcast } from '../adapter'

/**
 * What travels on a room's channel, and what a room's history holds: `skip\nframe`, where `frame` is the
 * wire frame's JSON and `skip` the connection that must not get it (empty when nobody is skipped); or
 * `#mark`, a join's mark, which delivers nothing.
 */
export interface Frame {
  skip: string | undefined
  encoded: string
  message: RoomBroadcast
}

/** A join's mark (`#token`) on a room channel: tells the joining node it received all before it. */
export interface Mark {
  mark: string
}

/** Parse a channel payload; undefined if malformed. */
export function parseFrame(payload: string): Frame | Mark | undefined {
  if (payload.startsWith('#')) return { mark: payload.slice(1) }
  const cut = payload.indexOf('\n')
  if (cut === -1) return undefined
  const encoded = payload.slice(cut + 1)
  try {
    const message = JSON.parse(encoded) as RoomBroadcast
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return undefined
    return { skip: cut === 0 ? undefined : payload.slice(0, cut), encoded, message }
  } catch {
    return undefined
  }
}

/** Entries of a room's history as a script returns them (newest first): its `message` frames, oldest first. */
export function parseHistory(entries: readonly string[]): Frame[] {
  const frames: Frame[] = []
  for (let i = entries.length - 1; i >= 0; i--) {
    const frame = parseFrame(entries[i]!)
    if (frame !== undefined && 'message' in frame && frame.message.type === 'message') frames.push(frame)
  }
  return frames
}
