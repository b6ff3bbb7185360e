import type { ClientSnapshot, RoomSnapshot } from '@roomwire/client'
import type { Protocol } from '@roomwire/protocol'

const idleRooms = new Map<string, RoomSnapshot>()

/** What a room looks like before its handle exists (first render, or server rendering): joining, empty. */
export function idleRoomSnapshot<P extends Protocol>(name: string): RoomSnapshot<P> {
  let snapshot = idleRooms.get(name)
  if (snapshot === undefined) {
    snapshot = Object.freeze({
      name,
      status: 'joining',
      members: Object.freeze([]),
      memberCount: 0,
      self: null,
      seq: 0,
      epoch: null,
      error: null,
      pending: Object.freeze([]),
    }) as RoomSnapshot
    // Bounded: only names actually rendered while idle land here.
    if (idleRooms.size > 1000) idleRooms.clear()
    idleRooms.set(name, snapshot)
  }
  return snapshot as unknown as RoomSnapshot<P>
}

/** The client as server rendering shows it: connecting, with no connection id yet. */
export const serverClientSnapshot: ClientSnapshot = Object.freeze({
  status: 'connecting',
  id: null,
  user: null,
  attempt: 0,
  retryAt: null,
  lastError: null,
  closeCode: null,
}) as ClientSnapshot
