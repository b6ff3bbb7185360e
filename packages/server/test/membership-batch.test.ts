import { describe, expect, it, vi } from 'vitest'
import { startTestServer, type TestClient } from './helpers'

// Membership changes of one server turn go out as one `member_changes` frame per member (issue 20,
// src/membership-batch.ts). Whatever the batching, each member must end up knowing exactly the room's
// members: its `joined` list, then every change after it once, in order.

/** Apply a client's membership frames in order; throws on a join of a known id or a leave of an unknown one. */
function membersOf(client: TestClient, room: string): Set<string> {
  const known = new Set<string>()
  for (const m of client.messages) {
    if ((m.type === 'joined' || m.type === 'members') && m.room === room) {
      for (const member of m.members) known.add(member.id)
    } else if (m.type === 'member_joined' && m.room === room) {
      if (known.has(m.member.id)) throw new Error(`${client.id} was told twice that ${m.member.id} joined`)
      known.add(m.member.id)
    } else if (m.type === 'member_left' && m.room === room) {
      if (!known.delete(m.id)) throw new Error(`${client.id} was told ${m.id} left, a member it did not know`)
    }
  }
  return known
}

const frames = (clients: TestClient[], type: string) =>
  clients.reduce((sum, c) => sum + c.messages.filter((m) => m.type === type).length, 0)

describe('membership changes batched per turn', () => {
  it('fills a room with far fewer frames than one per join and member, and every member counts right', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    const n = 40
    const clients = await Promise.all(Array.from({ length: n }, () => server.connect()))
    // Every join at once: the server reads several in one turn.
    for (const c of clients) c.send({ type: 'join', room: 'big' })
    await Promise.all(clients.map((c) => c.next('joined')))
    const ids = new Set(clients.map((c) => c.id))
    await vi.waitFor(() => {
      for (const c of clients) expect(membersOf(c, 'big')).toEqual(ids)
    })
    expect(frames(clients, 'member_changes')).toBeGreaterThan(0)
    // The frames on the wire: member_changes frames plus the changes sent alone.
    const alone = clients.reduce(
      (sum, c) => sum + c.messages.filter((m, i) => m.type === 'member_joined' && !isExpanded(c, i)).length,
      0,
    )
    expect(frames(clients, 'member_changes') + alone).toBeLessThan((n * (n - 1)) / 2)

    // Half of them leave at once: the others are told, once each.
    const leaving = clients.slice(0, n / 2)
    await Promise.all(leaving.map((c) => c.close()))
    const staying = clients.slice(n / 2)
    const left = new Set(staying.map((c) => c.id))
    await vi.waitFor(() => {
      for (const c of staying) expect(membersOf(c, 'big')).toEqual(left)
    })
    expect((await server.server.roomInfo('big'))?.memberCount).toBe(n / 2)
  })

  it('keeps a change and the message after it in order', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    const bob = await server.connect()
    const carol = await server.connect()
    bob.send({ type: 'join', room: 'r' })
    carol.send({ type: 'join', room: 'r' })
    await Promise.all([bob.next('joined'), carol.next('joined')])
    bob.send({ type: 'publish', room: 'r', event: 'e', data: 1 })
    await alice.next('message')
    const order = alice.messages
      .filter((m) => m.type === 'member_joined' || m.type === 'message')
      .map((m) => (m.type === 'message' ? 'message' : m.member.id))
    expect(order.slice(-1)).toEqual(['message'])
    expect(new Set(order.slice(0, -1))).toEqual(new Set([bob.id, carol.id]))
    await Promise.all([bob.close(), carol.close()])
  })
})

/** Whether message `i` of a client is one of the changes expanded from a `member_changes` frame before it. */
function isExpanded(client: TestClient, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const m = client.messages[j]!
    if (m.type === 'member_changes') return true
    if (m.type !== 'member_joined' && m.type !== 'member_left') return false
  }
  return false
}
