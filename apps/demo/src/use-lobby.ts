import { useRoom } from '@roomwire/react'
import { useMemo } from 'react'
import { type Chat, LOBBY, type Person } from './protocol'
import { useOwnPresence } from './use-own-presence'
import { useRoster } from './use-roster'

/**
 * Everyone joins the lobby with their name and the rooms they have joined as presence, so every client can
 * show who is online. The room list and its head counts are the server's answer to `listRooms`
 * (use-room-directory.ts); the lobby's members are its cue to ask again.
 */
export function useLobby(me: Person, joinedRooms: readonly string[]) {
  const roomsKey = joinedRooms.join('\n')
  const wanted = useMemo(
    () => ({ ...me, rooms: roomsKey === '' ? [] : roomsKey.split('\n') }),
    [me, roomsKey],
  )
  const lobby = useRoom<Chat>(LOBBY, { presence: wanted })
  useOwnPresence(lobby, wanted)
  const roster = useRoster(lobby.members, me.uid, lobby.status === 'joined')
  return { members: lobby.members, people: roster.entries, online: roster.online }
}
