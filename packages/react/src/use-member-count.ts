import type { RoomSnapshot } from '@roomwire/client'
import type { Protocol } from '@roomwire/protocol'
import { useRoomHandle } from './use-room-handle'
import { useRoomSnapshot } from './use-room-snapshot'

const countOf = (snapshot: RoomSnapshot<Protocol>) => snapshot.memberCount

/**
 * How many members room `name` has, self included: right in a big room too, where `useMembers` holds
 * only self (counts mode, PROTOCOL.md "Big rooms"; list the others with `room.loadMembers()`).
 * @example
 * const online = useMemberCount('general')
 */
export function useMemberCount(name: string): number {
  return useRoomSnapshot(name, useRoomHandle(name), countOf)
}
