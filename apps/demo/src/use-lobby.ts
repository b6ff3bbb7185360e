import { useRoom } from '@roomwire/react'
import { useEffect, useMemo } from 'react'
import { type Chat, LOBBY } from './protocol'

/**
 * Everyone joins the lobby with their name and open rooms as presence, so every client can show who is
 * online and how many people are in each room, with nothing but the protocol.
 */
export function useLobby(name: string, openRooms: string[]) {
  const { members, setPresence, status } = useRoom<Chat>(LOBBY, { presence: { name, rooms: openRooms } })
  const roomsKey = openRooms.join(',')
  useEffect(() => {
    if (status !== 'joined') return
    setPresence({ name, rooms: roomsKey === '' ? [] : roomsKey.split(',') }).catch(() => {
      // Presence is refreshed on the next change or rejoin; nothing to tell the user.
    })
  }, [name, roomsKey, setPresence, status])

  return useMemo(() => {
    const counts = new Map<string, number>()
    const online: string[] = []
    for (const member of members) {
      if (!member.presence) continue
      online.push(member.presence.name)
      for (const room of member.presence.rooms ?? []) counts.set(room, (counts.get(room) ?? 0) + 1)
    }
    return { counts, online }
  }, [members])
}
