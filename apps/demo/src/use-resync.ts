import type { ResyncInfo, Room } from '@roomwire/client'
import { useCallback, useEffect, useRef, useState } from 'react'
import type { ChatMessage } from './messages'
import type { Chat } from './protocol'

/**
 * The room's `resync` events: the last one as a notice until dismissed, and for each the message it came
 * after, where the list marks that messages may be missing. The client emits `resync` only where messages
 * may really be gone (PROTOCOL.md, "What an SDK client does"), so a reconnect that replayed everything
 * shows nothing. It comes before the replay that follows it, so the newest message then is the last one
 * before the hole.
 */
export function useResync(room: Room<Chat> | null, messages: readonly ChatMessage[]) {
  const [notice, setNotice] = useState<ResyncInfo | null>(null)
  const [gapsAfter, setGapsAfter] = useState<ReadonlySet<string>>(new Set())
  const latest = useRef(messages)
  latest.current = messages
  useEffect(
    () =>
      room?.on('resync', (info) => {
        setNotice(info)
        let before: ChatMessage | undefined
        for (const m of latest.current) if (m.status === 'received' || m.status === 'delivered') before = m
        if (before !== undefined) setGapsAfter((gaps) => new Set(gaps).add(before.key))
      }),
    [room],
  )
  const dismiss = useCallback(() => setNotice(null), [])
  return { notice, gapsAfter, dismiss }
}
