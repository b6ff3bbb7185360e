import { useEffect, useState } from 'react'
import { type ChatMessage, isMine } from './messages'

const readKey = (room: string) => `roomwire-demo:read:${room}`

function storedRead(room: string): number {
  const saved = Number(localStorage.getItem(readKey(room)))
  // A room opened for the first time: what its history replays counts as read.
  return Number.isFinite(saved) && saved > 0 ? saved : Date.now()
}

/**
 * How many messages by others arrived in a room since it was last on screen, and which message the "new"
 * divider goes before when it is shown again. What was read is the time (`ts`, the server's clock) of the
 * newest message seen on screen, kept across reloads.
 *
 * `joined`: the room's join is confirmed, so its history (what came while the reader was away) is in
 * `messages`. Nothing counts as seen before that: a room on screen from the first render would otherwise
 * mark its history read as it arrives, and the divider, decided while the list was still empty, would
 * never show after a reload. A rejoin after a lost connection is a showing too: what the resume replays
 * gets the divider.
 */
export function useUnread(
  room: string,
  messages: readonly ChatMessage[],
  visible: boolean,
  joined: boolean,
  selfUid: string,
) {
  const [readUpTo, setReadUpTo] = useState(() => storedRead(room))
  const [dividerBefore, setDividerBefore] = useState<string | null>(null)
  const newest = messages.reduce((max, m) => (m.status === 'received' && m.ts > max ? m.ts : max), 0)
  const shown = visible && joined

  // Shown (again): the divider goes before the first message not read then (not before messages that
  // come in while the room is on screen).
  // biome-ignore lint/correctness/useExhaustiveDependencies: only the moment the room is shown counts
  useEffect(() => {
    const first = shown ? messages.find((m) => !isMine(m, selfUid) && m.ts > readUpTo) : undefined
    if (shown || !visible) setDividerBefore(first?.key ?? null)
  }, [shown])

  useEffect(() => {
    if (!shown || newest <= readUpTo) return
    setReadUpTo(newest)
    localStorage.setItem(readKey(room), String(newest))
  }, [shown, newest, readUpTo, room])

  const unread = visible ? 0 : messages.filter((m) => !isMine(m, selfUid) && m.ts > readUpTo).length
  return { unread, dividerBefore }
}
