import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TestClient, TestServer } from '../helpers'
import { deleteKeys, REDIS_URL, redisClient, startNode, uniquePrefix } from './redis-helpers'

let prefix = ''
let nodes: TestServer[] = []

async function cluster(count: number, options: Parameters<typeof startNode>[2] = {}): Promise<TestServer[]> {
  prefix = uniquePrefix()
  nodes = await Promise.all(Array.from({ length: count }, () => startNode(prefix, {}, options)))
  return nodes
}

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  nodes = []
  await deleteKeys(REDIS_URL, prefix)
})

async function join(client: TestClient, room: string, extra: Record<string, unknown> = {}) {
  const reply = await client.request({ type: 'join', room, ...extra })
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`)
  return reply
}

describe('the Redis adapter across three nodes', () => {
  it('delivers every publish to members on every node with one contiguous seq order', async () => {
    const [a, b, c] = await cluster(3)
    const members = [await a!.connect(), await b!.connect(), await c!.connect()]
    for (const member of members) await join(member, 'lobby')
    // Every member publishes at once: the cluster must still agree on one order.
    for (let i = 0; i < 20; i++) {
      members.forEach((member, n) => {
        member.send({ type: 'publish', room: 'lobby', event: 'e', data: { n, i }, echo: true })
      })
    }
    await vi.waitFor(() => {
      for (const member of members) expect(member.received('message')).toHaveLength(60)
    })
    const orders = members.map((member) => member.received('message').map((m) => JSON.stringify(m)))
    expect(orders[1]).toEqual(orders[0])
    expect(orders[2]).toEqual(orders[0])
    expect(members[0]!.received('message').map((m) => m.seq)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    )
  })

  it('lists the members of every node in joined and announces joins, presence and leaves across nodes', async () => {
    const [a, b, c] = await cluster(3)
    const alice = await a!.connect()
    const bob = await b!.connect()
    await join(alice, 'room', { presence: { name: 'alice' } })
    await join(bob, 'room', { presence: { name: 'bob' } })
    const carol = await c!.connect()
    const joined = await join(carol, 'room')
    expect(joined.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id, carol.id].sort())
    expect(joined.members.find((m) => m.id === bob.id)?.presence).toEqual({ name: 'bob' })
    await alice.next('member_joined', (m) => m.member.id === carol.id)
    await bob.next('member_joined', (m) => m.member.id === carol.id)
    carol.send({ type: 'presence', room: 'room', state: { name: 'carol' } })
    await expect(alice.next('presence')).resolves.toMatchObject({ id: carol.id, state: { name: 'carol' } })
    await bob.next('presence', (m) => m.id === carol.id)
    await carol.close()
    await expect(alice.next('member_left')).resolves.toMatchObject({ id: carol.id })
    await expect(bob.next('member_left')).resolves.toMatchObject({ id: carol.id })
    expect(carol.received('member_joined')).toHaveLength(0)
  })

  it('delivers a direct message to a connection on another node and refuses an unknown one', async () => {
    const [a, b] = await cluster(2)
    const alice = await a!.connect()
    const bob = await b!.connect()
    // A connection is registered for direct messages one Redis round trip after its welcome.
    const redis = await redisClient()
    await vi.waitFor(async () => expect(await redis.hget(`${prefix}conns`, bob.id)).not.toBeNull())
    redis.disconnect()
    await expect(alice.request({ type: 'direct', to: bob.id, event: 'hi', data: 1 })).resolves.toMatchObject({
      type: 'ack',
    })
    await expect(bob.next('direct')).resolves.toMatchObject({ from: alice.id, event: 'hi', data: 1 })
    await expect(
      alice.request({ type: 'direct', to: 'c_nobody', event: 'hi', data: 1 }),
    ).resolves.toMatchObject({
      type: 'error',
      code: 'not_found',
    })
  })

  it('reaches connections on every node with broadcastAll, broadcastTo and broadcastExcept', async () => {
    const [a, b, c] = await cluster(3)
    const clients = [await a!.connect(), await b!.connect(), await c!.connect()]
    await a!.server.broadcastAll('notice', 1)
    for (const client of clients) await client.next('direct', (m) => m.data === 1)
    await b!.server.broadcastTo([clients[0]!.id, clients[2]!.id], 'notice', 2)
    await clients[0]!.next('direct', (m) => m.data === 2)
    await clients[2]!.next('direct', (m) => m.data === 2)
    await c!.server.broadcastExcept([clients[0]!.id], 'notice', 3)
    await clients[1]!.next('direct', (m) => m.data === 3)
    await clients[2]!.next('direct', (m) => m.data === 3)
    await expect(a!.server.sendDirect(clients[2]!.id, 'notice', 4)).resolves.toBe(true)
    await clients[2]!.next('direct', (m) => m.data === 4)
    expect(clients[1]!.received('direct').map((m) => m.data)).toEqual([1, 3])
    expect(clients[0]!.received('direct').map((m) => m.data)).toEqual([1, 2])
  })

  it('answers roomInfo and rooms for the whole cluster from any node', async () => {
    const [a, b] = await cluster(2)
    const alice = await a!.connect()
    const bob = await b!.connect()
    await join(alice, 'one')
    await join(bob, 'one')
    await join(bob, 'two')
    await b!.server.broadcast('one', 'e', null)
    const info = await a!.server.roomInfo('one')
    expect(info).toMatchObject({ room: 'one', memberCount: 2, seq: 1 })
    expect(info!.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort())
    expect((await a!.server.rooms()).sort()).toEqual(['one', 'two'])
    await expect(a!.server.roomInfo('never')).resolves.toBeNull()
  })

  it('dedupes a publish retried on another node by its id', async () => {
    const [a, b] = await cluster(2)
    const first = await a!.connect()
    const second = await b!.connect()
    await join(first, 'room')
    await join(second, 'room')
    const ack = await first.request({ type: 'publish', room: 'room', event: 'e', data: 1, id: 'm1' })
    const again = await second.request({ type: 'publish', room: 'room', event: 'e', data: 1, id: 'm1' })
    expect(again).toEqual({ type: 'ack', ref: again.type === 'ack' ? again.ref : 0, seq: 1 })
    expect(ack).toMatchObject({ seq: 1 })
    await second.next('message')
    const third = await second.request({ type: 'publish', room: 'room', event: 'e', data: 2, ref: 9 })
    expect(third).toMatchObject({ seq: 2 })
    expect(second.received('message')).toHaveLength(1)
  })

  it('resumes with since on another node: every missed message once, recovered true', async () => {
    const [a, b] = await cluster(2)
    const publisher = await a!.connect()
    await join(publisher, 'room')
    const reader = await a!.connect()
    const first = await join(reader, 'room')
    publisher.send({ type: 'publish', room: 'room', event: 'e', data: 1 })
    await reader.next('message', (m) => m.seq === 1)
    await reader.close()
    for (let i = 2; i <= 5; i++) publisher.send({ type: 'publish', room: 'room', event: 'e', data: i })
    await publisher.request({ type: 'ping' })
    await vi.waitFor(async () => expect((await a!.server.roomInfo('room'))?.seq).toBe(5))
    const back = await b!.connect()
    const joined = await join(back, 'room', { since: 1, epoch: first.epoch })
    expect(joined).toMatchObject({ recovered: true, seq: 5, epoch: first.epoch })
    expect(back.received('message').map((m) => m.data)).toEqual([2, 3, 4, 5])
  })

  it('replays history on a first join from any node, and refuses since from another epoch', async () => {
    const [a, b] = await cluster(2, { historySize: 3 })
    for (let i = 1; i <= 5; i++) await a!.server.broadcast('room', 'e', i)
    const client = await b!.connect()
    const joined = await join(client, 'room', { history: 10 })
    expect(joined).toMatchObject({ seq: 5, replay: 3 })
    await vi.waitFor(() => expect(client.received('message').map((m) => m.seq)).toEqual([3, 4, 5]))
    const other = await a!.connect()
    const stale = await join(other, 'room', { since: 1, epoch: 'e_other', history: 2 })
    expect(stale).toMatchObject({ recovered: false, replay: 3 })
    await vi.waitFor(() => expect(other.received('message').map((m) => m.seq)).toEqual([3, 4, 5]))
    const gap = await b!.connect()
    expect(await join(gap, 'room', { since: 1, epoch: joined.epoch })).toMatchObject({ recovered: false })
  })

  it('counts members cluster-wide for room_full', async () => {
    const [a, b] = await cluster(2, { maxMembersPerRoom: 2 })
    await join(await a!.connect(), 'small')
    await join(await b!.connect(), 'small')
    const third = await a!.connect()
    await expect(third.request({ type: 'join', room: 'small' })).resolves.toMatchObject({
      type: 'error',
      code: 'room_full',
    })
  })

  it('keeps every message in order for members joining on other nodes while publishes stream', async () => {
    const [a, b, c] = await cluster(3)
    const publisher = await a!.connect()
    await join(publisher, 'room')
    let sent = 0
    const stream = (async () => {
      while (sent < 150) {
        publisher.send({ type: 'publish', room: 'room', event: 'e', data: ++sent })
        if (sent % 10 === 0) await publisher.request({ type: 'ping' })
      }
    })()
    const joiners: { client: TestClient; seq: number }[] = []
    for (const node of [b!, c!, b!, c!]) {
      const client = await node.connect()
      joiners.push({ client, seq: (await join(client, 'room')).seq })
    }
    await stream
    await vi.waitFor(async () => expect((await a!.server.roomInfo('room'))?.seq).toBe(150))
    for (const { client, seq } of joiners) {
      await vi.waitFor(() => expect(client.received('message').at(-1)?.seq).toBe(150))
      const seqs = client.received('message').map((m) => m.seq)
      expect(seqs).toEqual(Array.from({ length: 150 - seq }, (_, i) => seq + i + 1))
    }
  })

  it('gives an empty room the idle TTL and starts a new epoch at seq 0 once it expired', async () => {
    const [a, b] = await cluster(2, { idleTimeoutMs: 300 })
    const client = await a!.connect()
    const first = await join(client, 'room')
    await a!.server.broadcast('room', 'e', 1)
    const redis = await redisClient()
    try {
      const state = `${prefix}room:{room}:state`
      expect(await redis.pttl(state)).toBe(-1)
      await client.request({ type: 'leave', room: 'room' })
      const ttl = await redis.pttl(state)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(300)
      await vi.waitFor(async () => expect(await redis.exists(state)).toBe(0))
    } finally {
      redis.disconnect()
    }
    const again = await join(await b!.connect(), 'room')
    expect(again.seq).toBe(0)
    expect(again.epoch).not.toBe(first.epoch)
  })

  it('sends reset to members on every node when the store loses the room', async () => {
    const [a, b] = await cluster(2)
    const alice = await a!.connect()
    const bob = await b!.connect()
    const joined = await join(alice, 'room')
    await join(bob, 'room')
    await a!.server.broadcast('room', 'e', 1)
    await bob.next('message')
    const redis = await redisClient()
    try {
      await redis.del(
        ...['state', 'hist', 'ids', 'members', 'owners'].map((k) => `${prefix}room:{room}:${k}`),
      )
    } finally {
      redis.disconnect()
    }
    const { seq } = await b!.server.broadcast('room', 'e', 2)
    expect(seq).toBe(1)
    for (const client of [alice, bob]) {
      const reset = await client.next('reset')
      expect(reset.epoch).not.toBe(joined.epoch)
      expect(reset.seq).toBe(0)
      await client.next('message', (m) => m.data === 2 && m.seq === 1)
    }
    // Both nodes registered their members again.
    await vi.waitFor(async () => expect((await a!.server.roomInfo('room'))?.members).toHaveLength(2))
  })
})
