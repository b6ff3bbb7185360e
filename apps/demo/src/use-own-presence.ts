import type { PresenceInput } from '@roomwire/protocol'
import type { UseRoomResult } from '@roomwire/react'
import { useEffect } from 'react'
import type { Chat } from './protocol'

type Presence = PresenceInput<Chat>

const same = (a: Presence | undefined, b: Presence) =>
  a !== undefined &&
  a.uid === b.uid &&
  a.name === b.name &&
  (a.typing ?? false) === (b.typing ?? false) &&
  (a.rooms ?? []).join('\n') === (b.rooms ?? []).join('\n')

/**
 * Keep this member's presence in a joined room equal to `wanted`. The presence given to `useRoom` is read
 * once, when the room is first joined; a later `client.join()` of the same room (a remount within the
 * leave grace) ignores it. So a rename would reach the lobby but not the rooms (issue 16): the room's own
 * view of you is compared with what it should be, and set when they differ.
 */
export function useOwnPresence(room: UseRoomResult<Chat>, wanted: Presence): void {
  const current = room.self?.presence
  const stale = room.status === 'joined' && !same(current, wanted)
  const { setPresence } = room
  useEffect(() => {
    if (!stale) return
    setPresence(wanted).catch(() => {
      // Refused or disconnected: the rejoin carries the latest state, and the next render compares again.
    })
  }, [stale, wanted, setPresence])
}
