import { useRoom } from '@roomwire/react'
import { useMemo } from 'react'
import { type Chat, LOBBY, type Person } from './protocol'
import { useOwnPresence } from './use-own-presence'
import { useRoster } from './use-roster'

/**
 * Everyone joins the lobby with their name and open rooms as presence, so every client can show who is
 * online and how many people are in each room, with nothing but the protocol. (With typed request/reply,
 * #17, a "list rooms with member counts" request to the server can replace the counts.)
 */
export function useLobby(me: Person, openRooms: readonly string[]) {
  const roomsKey = openRooms.join('\n')
  const wanted = useMemo(
    () => ({ ...me, rooms: roomsKey === '' ? [] : roomsKey.split('\n') }),
    [me, roomsKey],
  )
  const lobby = useRoom<Chat>(LOBBY, { presence: wanted })
  useOwnPresence(lobby, wanted)
  const roster = useRoster(lobby.members, me.uid, lobby.status === 'joined')
  const counts = useMemo(() => {
    // By person: two tabs of one browser are one person in the room.
    const people = new Map<string, Set<string>>()
    for (const { presence } of lobby.members) {
      if (presence === undefined) continue
      for (const room of presence.rooms ?? []) {
        const here = people.get(room) ?? new Set()
        people.set(room, here.add(presence.uid))
      }
    }
    return new Map([...people].map(([room, uids]) => [room, uids.size]))
  }, [lobby.members])
  return { counts, people: roster.entries, online: roster.online }
}
