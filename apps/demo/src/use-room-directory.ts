import type { Client } from '@roomwire/client'
import { useConnectionStatus, useRoomwireClient } from '@roomwire/react'
import { useEffect, useMemo, useState } from 'react'
import type { Chat } from './protocol'

/** Asked again this often anyway: people also join rooms without a word in the lobby (a script, a console). */
export const REFRESH_MS = 15_000
/**
 * Asked once more this long after a change in the lobby: a person who closes a room tells the lobby at once
 * but leaves the room after the client's leave grace (500 ms), so the first answer may still count them.
 */
export const SETTLE_MS = 1_000

type Counts = ReadonlyMap<string, number>

/**
 * One `listRooms` at a time: a refresh asked for while one is in flight runs once after it, so a burst of
 * lobby changes costs two requests, not one each.
 */
export function createDirectory(
  client: Pick<Client<Chat>, 'request'>,
  publish: (counts: Counts) => void,
): { refresh: () => void } {
  let inFlight = false
  let again = false
  const run = () => {
    inFlight = true
    client
      .request('listRooms', undefined, { whenOffline: 'fail' })
      .then(({ rooms }) => {
        publish(new Map(rooms.map((room) => [room.name, room.people])))
      })
      .catch(() => {
        // Offline or refused: the list keeps its last answer, and the next cue asks again.
      })
      .finally(() => {
        inFlight = false
        if (again) refresh()
      })
  }
  const refresh = () => {
    again = inFlight
    if (!inFlight) run()
  }
  return { refresh }
}

/**
 * The rooms that have people, with their head counts, as the server counts them (the `listRooms`
 * request). Asked when the connection opens, when `cue` changes (the lobby's members and their presence:
 * someone came, went, or joined or left a room), then {@link SETTLE_MS} later, and every
 * {@link REFRESH_MS}.
 */
export function useRoomDirectory(cue: unknown): { counts: Counts; refresh: () => void } {
  const client = useRoomwireClient<Chat>()
  const online = useConnectionStatus((s) => s.status === 'open')
  const [counts, setCounts] = useState<Counts>(() => new Map())
  // No timers of its own: what is in flight when the component goes settles into a state nobody reads.
  const directory = useMemo(() => createDirectory(client, setCounts), [client])

  // `cue` is read only to run again when it changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: cue is the trigger, not an input
  useEffect(() => {
    if (!online) return
    directory.refresh()
    const settle = setTimeout(() => directory.refresh(), SETTLE_MS)
    return () => clearTimeout(settle)
  }, [online, cue, directory])

  useEffect(() => {
    if (!online) return
    const timer = setInterval(() => directory.refresh(), REFRESH_MS)
    return () => clearInterval(timer)
  }, [online, directory])

  return { counts, refresh: directory.refresh }
}
