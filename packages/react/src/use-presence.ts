import { type RoomSnapshot, RoomwireError } from '@roomwire/client'
import type { PresenceInput, PresenceState, Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useCallback } from 'react'
import { useRoomHandle } from './use-room-handle'
import { useRoomSnapshot } from './use-room-snapshot'

/**
 * This connection's presence state in room `name`, and a setter that sends the new state to the room.
 * @example
 * const [me, setMe] = usePresence<typeof chat>('general')
 * setMe({ name: 'Ada', typing: true })
 */
export function usePresence<P extends Protocol = UntypedProtocol>(
  name: string,
): [PresenceState<P> | undefined, (state: PresenceInput<P>) => Promise<void>] {
  const room = useRoomHandle<P>(name)
  const state = useRoomSnapshot(name, room, (snapshot: RoomSnapshot<P>) => snapshot.self?.presence)
  const setState = useCallback(
    (next: PresenceInput<P>) =>
      room
        ? room.setPresence(next)
        : Promise.reject(new RoomwireError('not_joined', `room "${name}" is not joined yet`)),
    [room, name],
  )
  return [state, setState]
}
