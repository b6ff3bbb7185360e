import type { JoinOptions, Room } from '@roomwire/client'
import type { Protocol } from '@roomwire/protocol'
import { useEffect, useRef, useState } from 'react'
import { useRoomwireClient } from './context'

/**
 * Holds a reference to room `name` while the component is mounted: joins in an effect, releases on
 * unmount. The client counts references and leaves after a grace period, so StrictMode's
 * mount-unmount-mount and several hooks on one room cost one `join` on the wire.
 */
export function useRoomHandle<P extends Protocol>(name: string, options?: JoinOptions<P>): Room<P> | null {
  const client = useRoomwireClient<P>()
  const [held, setHeld] = useState<{ client: unknown; room: Room<P> } | null>(null)
  // Join options are read when the effect runs; changing them later does not rejoin.
  const optionsRef = useRef(options)
  optionsRef.current = options
  useEffect(() => {
    const room = client.join(name, optionsRef.current)
    setHeld({ client, room })
    return () => room.leave()
  }, [client, name])
  return held !== null && held.client === client && held.room.name === name ? held.room : null
}
