import { type JoinOptions, type Room, type RoomSnapshot, RoomwireError } from '@roomwire/client'
import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useCallback } from 'react'
import { useRoomHandle } from './use-room-handle'
import { useRoomSnapshot } from './use-room-snapshot'

/** What {@link useRoom} returns. */
export interface UseRoomResult<P extends Protocol> {
  /** The room's join state: `joining`, `joined`, `rejoining` (after a reconnect), `left` or `error`. */
  status: RoomSnapshot<P>['status']
  /** Every member, this connection included. */
  members: RoomSnapshot<P>['members']
  /** This connection as a member, once joined. */
  self: RoomSnapshot<P>['self']
  /** Why the join failed (`forbidden`, `room_full`, …), when `status` is `error`. */
  error: RoomSnapshot<P>['error']
  /** Publish an event to the room; resolves with its `seq` at the server's ack. Stable across renders. */
  publish: Room<P>['publish']
  /** Replace this connection's presence state in the room. Stable across renders. */
  setPresence: Room<P>['setPresence']
  /** The underlying handle, for anything else (`null` until the first effect has run). */
  room: Room<P> | null
}

const pick = <P extends Protocol>(s: RoomSnapshot<P>) => s

/**
 * Join room `name` while the component is mounted, and read its state.
 * @example
 * const { status, members, publish } = useRoom<typeof chat>('general', { history: 50 })
 */
export function useRoom<P extends Protocol = UntypedProtocol>(
  name: string,
  options?: JoinOptions<P>,
): UseRoomResult<P> {
  const room = useRoomHandle<P>(name, options)
  const snapshot = useRoomSnapshot(name, room, pick<P>)
  const publish = useCallback(
    ((event, data, publishOptions) =>
      room
        ? room.publish(event, data, publishOptions)
        : Promise.reject(
            new RoomwireError(
              'not_joined',
              `room "${name}" is not joined yet: publish after the component has mounted`,
            ),
          )) as Room<P>['publish'],
    [room, name],
  )
  const setPresence = useCallback(
    ((state) =>
      room
        ? room.setPresence(state)
        : Promise.reject(
            new RoomwireError('not_joined', `room "${name}" is not joined yet`),
          )) as Room<P>['setPresence'],
    [room, name],
  )
  return {
    status: snapshot.status,
    members: snapshot.members,
    self: snapshot.self,
    error: snapshot.error,
    publish,
    setPresence,
    room,
  }
}
