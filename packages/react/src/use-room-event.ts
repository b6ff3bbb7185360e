import type { MessageMeta } from '@roomwire/client'
import type { EventData, EventName, Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useEffect, useLayoutEffect, useRef } from 'react'
import { useRoomHandle } from './use-room-handle'

// useLayoutEffect warns when rendered on a server; there the handler is never needed.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect

/**
 * Run `handler` for every `event` in room `name`. The latest handler runs, without resubscribing when it
 * changes between renders.
 * @example
 * useRoomEvent<typeof chat, 'typing'>('general', 'typing', (data, meta) => showTyping(meta.from, data.typing))
 */
export function useRoomEvent<P extends Protocol = UntypedProtocol, K extends EventName<P> = EventName<P>>(
  name: string,
  event: K,
  handler: (data: EventData<P, K>, meta: MessageMeta) => void,
): void {
  const room = useRoomHandle<P>(name)
  const latest = useRef(handler)
  useIsomorphicLayoutEffect(() => {
    latest.current = handler
  })
  useEffect(() => {
    if (room === null) return
    return room.on(event, (data: EventData<P, K>, meta: MessageMeta) => latest.current(data, meta))
  }, [room, event])
}
