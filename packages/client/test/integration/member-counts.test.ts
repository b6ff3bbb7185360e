import type { AddressInfo } from 'node:net'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Client, createClient, type Room } from '../../src/index'

// Counts mode against the real server (issue 20, PROTOCOL.md "Big rooms"): the snapshot's memberCount is
// right in both modes, and loadMembers pages list every member once.

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function startServer(memberListMax: number): Promise<RoomServer & { port: number }> {
  const server = createRoomServer({
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    rateLimitPerSec: 0,
    memberListMax,
  })
  await server.ready
  cleanup.push(() => server.close({ timeoutMs: 500 }))
  return Object.assign(server, { port: (server.address() as AddressInfo).port })
}

function connect(port: number): Client {
  const client = createClient({ url: `ws://127.0.0.1:${port}/ws`, WebSocket, logger: { error: () => {} } })
  cleanup.push(() => client.close())
  return client
}

async function joinMany(port: number, n: number): Promise<{ clients: Client[]; rooms: Room[] }> {
  const clients = Array.from({ length: n }, () => connect(port))
  const rooms = clients.map((c) => c.join('big'))
  await Promise.all(rooms.map((r) => r.ready))
  return { clients, rooms }
}

describe('memberCount and loadMembers against the real server', () => {
  it('counts right in list mode, across the switch to counts, and after members leave and drop', async () => {
    const server = await startServer(4)
    const { clients, rooms } = await joinMany(server.port, 4)
    await expect.poll(() => rooms.map((r) => r.getSnapshot().memberCount)).toEqual([4, 4, 4, 4])
    expect(rooms[0]!.getSnapshot().members).toHaveLength(4)

    // Past the threshold: the listed members keep only themselves, and count on.
    const more = await joinMany(server.port, 3)
    const all = [...rooms, ...more.rooms]
    await expect.poll(() => all.map((r) => r.getSnapshot().memberCount)).toEqual(Array(7).fill(7))
    for (const [i, room] of all.entries()) {
      const { members, self } = room.getSnapshot()
      expect(members).toEqual([self])
      expect(self?.id).toBe([...clients, ...more.clients][i]!.id)
    }

    rooms[0]!.leave()
    more.clients[0]!.close()
    const staying = [...rooms.slice(1), ...more.rooms.slice(1)]
    await expect.poll(() => staying.map((r) => r.getSnapshot().memberCount)).toEqual(Array(5).fill(5))
  })

  it('lists every member exactly once through loadMembers pages', async () => {
    const server = await startServer(5)
    const { clients, rooms } = await joinMany(server.port, 12)
    const ids: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await rooms[7]!.loadMembers({ limit: 5, ...(after && { after }) })
      expect(page.count).toBe(12)
      ids.push(...page.members.map((m) => m.id))
      if (!page.more) break
      after = page.members.at(-1)!.id
    }
    expect(ids).toHaveLength(12)
    expect(new Set(ids)).toEqual(new Set(clients.map((c) => c.id)))
  })

  it('refuses loadMembers before the room is joined', async () => {
    const server = await startServer(5)
    const room = connect(server.port).join('big')
    await expect(room.loadMembers()).rejects.toMatchObject({ code: 'not_connected' })
  })
})
