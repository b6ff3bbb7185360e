import type { ResyncInfo, Room } from '@roomwire/client'
import { useCallback, useEffect, useState } from 'react'
import type { Chat } from './protocol'

/**
 * The room's last `resync`, until dismissed: the client emits it only where messages may really be gone
 * (PROTOCOL.md, "What an SDK client does"), so a reconnect that replayed everything shows nothing.
 */
export function useResync(room: Room<Chat> | null): [ResyncInfo | null, () => void] {
  const [info, setInfo] = useState<ResyncInfo | null>(null)
  useEffect(() => room?.on('resync', setInfo), [room])
  return [info, useCallback(() => setInfo(null), [])]
}
