import type { Room, RoomSnapshot } from '@roomwire/client'
import type { Protocol } from '@roomwire/protocol'
import { useCallback } from 'react'
import { idleRoomSnapshot } from './idle-snapshot'
import { useSelector } from './use-selector'

/**
 * A slice of `room`'s snapshot, re-rendering only when the slice changes. Before the handle exists (first
 * render, server rendering) it reads an empty `joining` room.
 */
export function useRoomSnapshot<P extends Protocol, T>(
  name: string,
  room: Room<P> | null,
  selector: (snapshot: RoomSnapshot<P>) => T,
  isEqual?: (a: T, b: T) => boolean,
): T {
  const idle = useCallback(() => idleRoomSnapshot<P>(name), [name])
  return useSelector(room ? room.subscribe : null, room ? room.getSnapshot : idle, idle, selector, isEqual)
}
