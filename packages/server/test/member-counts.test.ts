import type { Member } from '@roomwire/protocol'
import { describe, expect, it, vi } from 'vitest'
import { startTestServer, type TestClient, type TestServer } from './helpers'
import { viewOf } from './member-view'

// Counts mode (issue 20, PROTOCOL.md "Big rooms"): a room above `memberListMax` tells its members the
// count instead of every join and leave, and lists its members page by page on request.

async function joinAll(clients: TestClient[], room: string): Promise<void> {
  for (const c of clients) c.send({ type: 'join', room })
  await Promise.all(clients.map((c) => c.next('joined')))
}

async function connectMany(server: TestServer, n: number): Promise<TestClient[]> {
  return Promise.all(Array.from({ length: n }, () => server.connect()))
}

async function expectCounts(clients: TestClient[], room: string, count: number): Promise<void> {
  await vi.waitFor(() => {
    for (const c of clients) expect(viewOf(c, room).count).toBe(count)
  })
}

/** Every member of a room through `members_page`, `limit` at a time. */
async function allPages(client: TestClient, room: string, limit: number) {
  const seen: Member[] = []
  let after: string | undefined
  let pages = 0
  for (;;) {
    const page = await client.request({ type: 'members_page', room, limit, ...(after && { after }) })
    if (page.type !== 'members_page') throw new Error(`page refused: ${JSON.stringify(page)}`)
    pages++
    seen.push(...page.members)
    if (!page.more) return { seen, pages, count: page.count }
    after = page.members.at(-1)!.id
  }
}

describe('counts mode for rooms above memberListMax', () => {
  it('keeps lists up to the threshold, then switches every member to the count', async () => {
    await using server = await startTestServer({ memberListMax: 5, rateLimitPerSec: 0 })
    const first = await connectMany(server, 5)
    await joinAll(first, 'big')
    await expectCounts(first, 'big', 5)
    for (const c of first) expect(viewOf(c, 'big').counted).toBe(false)

    const sixth = await server.connect()
    const joined = await sixth.request({ type: 'join', room: 'big' })
    expect(joined).toMatchObject({ type: 'joined', count: 6, members: [{ id: sixth.id }] })
    // The listed members learn the room switched: a member_count instead of the sixth's member_joined.
    await Promise.all(first.map((c) => c.next('member_count')))
    await expectCounts([...first, sixth], 'big', 6)
    for (const c of first) expect(viewOf(c, 'big').counted).toBe(true)

    // From now on nobody hears of single joins, leaves or presence: only the count.
    const more = await connectMany(server, 4)
    await joinAll(more, 'big')
    await first[0]!.close()
    more[0]!.send({ type: 'presence', room: 'big', state: { typing: true } })
    const everyone = [...first.slice(1), sixth, ...more]
    await expectCounts(everyone, 'big', 9)
    for (const c of everyone) expect(viewOf(c, 'big').strayWhileCounted).toBe(0)
    await Promise.all(everyone.map((c) => c.close()))
  })

  it('ends with every member counting right after bursts of joins, leaves and disconnects', async () => {
    await using server = await startTestServer({ memberListMax: 10, rateLimitPerSec: 0 })
    const clients = await connectMany(server, 60)
    await joinAll(clients, 'big')
    await expectCounts(clients, 'big', 60)
    // A third leave, a third drop their sockets, all in one burst.
    const leaving = clients.slice(0, 20)
    const dropping = clients.slice(20, 40)
    const staying = clients.slice(40)
    for (const c of leaving) c.send({ type: 'leave', room: 'big' })
    for (const c of dropping) c.ws.terminate()
    await expectCounts(staying, 'big', 20)
    expect((await server.server.roomInfo('big'))?.memberCount).toBe(20)
    // Members joining while others leave: the count still comes out right.
    const late = await connectMany(server, 15)
    for (const c of late) c.send({ type: 'join', room: 'big' })
    for (const c of staying.slice(0, 5)) c.ws.terminate()
    await Promise.all(late.map((c) => c.next('joined')))
    const left = [...staying.slice(5), ...late]
    await expectCounts(left, 'big', 30)
    await Promise.all([...leaving, ...left].map((c) => c.close()))
  })

  it('answers members_page with every member exactly once, in id order, and the count', async () => {
    await using server = await startTestServer({ memberListMax: 10, rateLimitPerSec: 0 })
    const clients = await connectMany(server, 37)
    await joinAll(clients, 'big')
    const { seen, pages, count } = await allPages(clients[3]!, 'big', 8)
    expect(count).toBe(37)
    expect(pages).toBe(5)
    const ids = seen.map((m) => m.id)
    expect(new Set(ids).size).toBe(37)
    expect(new Set(ids)).toEqual(new Set(clients.map((c) => c.id)))
    expect([...ids].sort()).toEqual(ids)
    await Promise.all(clients.map((c) => c.close()))
  })

  it('refuses members_page in a room the connection has not joined', async () => {
    await using server = await startTestServer({ memberListMax: 10 })
    await using alice = await server.connect()
    await expect(alice.request({ type: 'members_page', room: 'nope' })).resolves.toMatchObject({
      type: 'error',
      code: 'not_joined',
    })
  })

  it('gives new joiners lists again only once the room is down to 90% of the threshold', async () => {
    await using server = await startTestServer({ memberListMax: 20, rateLimitPerSec: 0 })
    const clients = await connectMany(server, 21)
    await joinAll(clients, 'big')
    await expectCounts(clients, 'big', 21)
    // Back under the threshold but above 90% of it (18): a joiner is still counted.
    await clients[0]!.close()
    await clients[1]!.close()
    await expectCounts(clients.slice(2), 'big', 19)
    const at20 = await server.connect()
    await expect(at20.request({ type: 'join', room: 'big' })).resolves.toMatchObject({ count: 20 })
    await at20.close()
    await clients[2]!.close()
    await expectCounts(clients.slice(3), 'big', 18)
    // 18 members: the next joiner gets the list; the counted ones stay counted.
    const listed = await server.connect()
    const joined = await listed.request({ type: 'join', room: 'big' })
    expect(joined).not.toHaveProperty('count')
    expect(joined.type === 'joined' && joined.members).toHaveLength(19)
    await expectCounts([...clients.slice(3), listed], 'big', 19)
    expect(viewOf(clients[3]!, 'big').counted).toBe(true)
    expect(viewOf(listed, 'big').counted).toBe(false)
    // A counted member's presence still reaches the listed member, and no counted one.
    clients[3]!.send({ type: 'presence', room: 'big', state: { away: true } })
    await expect(listed.next('presence')).resolves.toMatchObject({
      id: clients[3]!.id,
      state: { away: true },
    })
    for (const c of clients.slice(4)) expect(viewOf(c, 'big').strayWhileCounted).toBe(0)
    await Promise.all([listed, ...clients.slice(3)].map((c) => c.close()))
  })

  it('never switches with memberListMax 0', async () => {
    await using server = await startTestServer({ memberListMax: 0, rateLimitPerSec: 0 })
    const clients = await connectMany(server, 30)
    await joinAll(clients, 'big')
    await expectCounts(clients, 'big', 30)
    for (const c of clients) expect(c.messages.some((m) => m.type === 'member_count')).toBe(false)
    await Promise.all(clients.map((c) => c.close()))
  })
})
