import type { MemberInfo, RequestHandlers, RoomServer } from '@roomwire/server'
import { type Chat, LOBBY, MAX_LISTED_ROOMS } from './protocol'

// The demo's request handlers, run by the server only (the page never imports this file). The reference
// server loads them with `--handlers apps/demo/src/handlers.ts` beside `--protocol apps/demo/src/protocol.ts`
// (scripts/start-demo.ts); an embedding server passes them to `createRoomServer({ protocol, handlers })`.
// Refusals are returned with `ctx.refuse`, a value like any answer, typed by the codes the request declares.

/**
 * Rooms looked at per `listRooms`: each costs a `roomInfo` (a Redis round trip in a cluster), so a server
 * with thousands of rooms answers with the busiest of the first few hundred rather than scanning them all.
 */
const MAX_SCANNED_ROOMS = 200

/** People in a room: members by their browser's `uid`, so two tabs of one person count once. */
function peopleIn(members: readonly MemberInfo<Chat>[]): number {
  // A member with no presence (a script, the browser console) is a person of its own.
  return new Set(members.map((member) => member.presence?.uid ?? `connection:${member.id}`)).size
}

async function listRooms(server: RoomServer<Chat>) {
  const names = (await server.rooms()).filter((name) => name !== LOBBY).slice(0, MAX_SCANNED_ROOMS)
  const infos = await Promise.all(names.map((name) => server.roomInfo(name)))
  const rooms = infos.flatMap((info) =>
    info === null || info.memberCount === 0 ? [] : [{ name: info.room, people: peopleIn(info.members) }],
  )
  rooms.sort((a, b) => b.people - a.people || a.name.localeCompare(b.name))
  return { rooms: rooms.slice(0, MAX_LISTED_ROOMS) }
}

/** The demo's request handlers, one per request its protocol declares (a missing one does not compile). */
export const handlers: RequestHandlers<Chat> = {
  listRooms: (_input, ctx) => listRooms(ctx.server),
  createRoom: async ({ name }, ctx) => {
    // A room is there once someone joins it; what "create" adds is the promise that it is new. A room with
    // members, or with history (everyone left, the messages stay), is someone's conversation already.
    const info = await ctx.server.roomInfo(name)
    if (info !== null && (info.memberCount > 0 || info.seq > 0))
      return ctx.refuse('name_taken', 'That name is taken')
    return { name }
  },
}
