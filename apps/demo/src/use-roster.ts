import type { Member } from '@roomwire/client'
import { useMemo, useRef } from 'react'
import type { Chat } from './protocol'

/** One person in a room's member list. */
export interface RosterEntry {
  uid: string
  name: string
  /** In the room now, as far as this client can tell (false for everyone while it is disconnected). */
  online: boolean
  self: boolean
  typing: boolean
}

/** Offline people kept per room, newest first: a long session must not grow the list without bound. */
const MAX_OFFLINE = 30

/**
 * The people of a room, online first, with those seen earlier in this session shown offline instead of
 * dropped (issue 16): while the server is down the client cannot tell who is still there, and before its
 * own socket closes a restarting server says everyone else left. People are keyed by their `uid`, so a
 * reconnect (a new connection id) or a second tab is the same person.
 * `live`: the room is joined on an open connection, so its member list is the server's current word.
 */
export function useRoster(members: readonly Member<Chat>[], selfUid: string, live: boolean) {
  // Written during render, but only ever to the same value for the same members: StrictMode's double
  // render changes nothing.
  const seen = useRef(new Map<string, string>())
  return useMemo(() => {
    const present = new Map<string, Member<Chat>>()
    for (const member of members) {
      const person = member.presence
      if (person === undefined) continue
      present.set(person.uid, member)
      seen.current.delete(person.uid)
      seen.current.set(person.uid, person.name)
    }
    const entries: RosterEntry[] = []
    // You first, then the others in the order they joined.
    const order = [...present].sort(([a], [b]) => Number(b === selfUid) - Number(a === selfUid))
    for (const [uid, member] of order) {
      entries.push({
        uid,
        name: member.presence?.name ?? uid,
        online: live,
        self: uid === selfUid,
        typing: live && member.presence?.typing === true,
      })
    }
    const gone = [...seen.current].filter(([uid]) => !present.has(uid)).reverse()
    for (const [uid] of gone.slice(MAX_OFFLINE)) seen.current.delete(uid)
    for (const [uid, name] of gone.slice(0, MAX_OFFLINE)) {
      entries.push({ uid, name, online: false, self: uid === selfUid, typing: false })
    }
    const byUid = new Map(entries.map((entry) => [entry.uid, entry]))
    const online = entries.filter((entry) => entry.online).length
    return { entries, byUid, online }
  }, [members, selfUid, live])
}
