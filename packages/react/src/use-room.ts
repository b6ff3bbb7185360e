import { type JoinOptions, type Room, type RoomSnapshot, RoomwireError } from '@roomwire/client'
import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useCallback, useEffect, useRef } from 'react'
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
  /** Why the join failed (`forbidden`, `room_full`, …) when `status` is `error`; while `joining`, the refusal it retries (`unavailable`). */
  error: RoomSnapshot<P>['error']
  /** Publish an event to the room; resolves with its `seq` at the server's ack. Stable across renders. */
  publish: Room<P>['publish']
  /** Replace this connection's presence state in the room. Stable across renders. */
  setPresence: Room<P>['setPresence']
  /** The underlying handle, for anything else (`null` until the first effect has run). */
  room: Room<P> | null
}

const pick = <P extends Protocol>(s: RoomSnapshot<P>) => s
const noop = () => {}

/** A value as compared across renders: a new object with the same content is the same presence. */
function presenceKey(value: unknown): unknown {
  if (value === undefined) return undefined
  try {
    return JSON.stringify(value)
  } catch {
    // Not JSON (the join would refuse it anyway): compare by identity.
    return value
  }
}

/**
 * Join room `name` while the component is mounted, and read its state. The `presence` option goes with
 * the join; when it changes later (by content, not identity) it is sent as a presence update, like
 * `setPresence` (whose promise reports a refusal; this prop form has none to return).
 * @example
 * const { status, members, publish } = useRoom<typeof chat>('general', { history: 50 })
 */
export function useRoom<P extends Protocol = UntypedProtocol>(
  name: string,
  options?: JoinOptions<P>,
): UseRoomResult<P> {
  const room = useRoomHandle<P>(name, options)
  const snapshot = useRoomSnapshot(name, room, pick<P>)
  const presence = options?.presence
  const key = presenceKey(presence)
  const latest = useRef(presence)
  latest.current = presence
  // The presence this handle last had from the prop: the join's, then each update's.
  const sent = useRef<{ room: Room<P>; key: unknown } | null>(null)
  useEffect(() => {
    if (room === null) return
    const previous = sent.current
    sent.current = { room, key }
    if (previous?.room !== room || previous.key === key || latest.current === undefined) return
    room.setPresence(latest.current).catch(noop)
  }, [room, key])
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
