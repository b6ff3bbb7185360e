import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRedisAdapter } from '../../src/redis/index'
import { startTestServer, type TestClient, type TestServer } from '../helpers'
import { type PrivateRedis, privateRedis, redisClient } from './redis-helpers'

let redis: PrivateRedis
let nodes: TestServer[] = []

async function node(name: string): Promise<TestServer> {
  const server = await startTestServer({
    adapter: createRedisAdapter({
      url: redis.url,
      keyPrefix: 'rw:',
      nodeTtlMs: 1500,
      heartbeatIntervalMs: 300,
      reapIntervalMs: 300,
      commandTimeoutMs: 500,
      connectTimeoutMs: 2000,
      maxReconnectDelayMs: 100,
      redisOptions: { connectionName: name },
    }),
  })
  nodes.push(server)
  return server
}

async function join(client: TestClient, room: string) {
  const reply = await client.request({ type: 'join', room })
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`)
  return reply
}

async function health(server: TestServer): Promise<Record<string, unknown>> {
  return (await fetch(`${server.httpUrl}/health`)).json() as Promise<Record<string, unknown>>
}

async function storeUp(server: TestServer): Promise<string | undefined> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
  return /^roomwire_cluster_store_up (\d)$/m.exec(text)?.[1]
}

beforeEach(async () => {
  redis = await privateRedis()
  await redis.start()
})

afterEach(async () => {
  await Promise.all(nodes.map((server) => server.close()))
  nodes = []
  await redis.stop()
})

describe('the Redis adapter when Redis goes away', () => {
  it('keeps serving, refuses publishes fast, reports degraded, and recovers with reset when Redis returns empty', async () => {
    const [a, b] = [await node('a'), await node('b')]
    const alice = await a.connect()
    const bob = await b.connect()
    const first = await join(alice, 'room')
    await join(bob, 'room')
    await alice.request({ type: 'publish', room: 'room', event: 'e', data: 1 })
    await bob.next('message')
    expect(await storeUp(a)).toBe('1')

    await redis.stop()
    await vi.waitFor(async () => expect(await health(a)).toMatchObject({ status: 'degraded' }))
    expect(String((await health(a)).reason)).toContain('cluster store')
    expect(await storeUp(b)).toBe('0')
    // Still serving its connections...
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
    // ...but a publish that cannot get a cluster seq is refused at once, never given an invented one.
    const started = performance.now()
    const refused = await alice.request({ type: 'publish', room: 'room', event: 'e', data: 2, id: 'x2' })
    expect(refused).toMatchObject({ type: 'error', code: 'unavailable' })
    expect(refused.type === 'error' && refused.message).toContain('cluster store (Redis) is unavailable')
    expect(performance.now() - started).toBeLessThan(1000)
    await expect(a.server.broadcast('room', 'e', 3)).rejects.toThrow(/unavailable/)

    // Redis comes back with no data: the room starts a new epoch and every member is told.
    await redis.start()
    await vi.waitFor(async () => expect(await health(a)).toMatchObject({ status: 'ok' }), 5000)
    await vi.waitFor(async () => expect(await health(b)).toMatchObject({ status: 'ok' }), 5000)
    for (const client of [alice, bob]) {
      const reset = await client.next('reset', () => true, 5000)
      expect(reset.epoch).not.toBe(first.epoch)
    }
    expect(await storeUp(a)).toBe('1')
    // Both nodes registered their members again, and cross-node delivery works.
    await vi.waitFor(async () => expect((await a.server.roomInfo('room'))?.members).toHaveLength(2))
    const ack = await alice.request({ type: 'publish', room: 'room', event: 'e', data: 4, id: 'x4' })
    expect(ack).toMatchObject({ type: 'ack', seq: 1 })
    await expect(bob.next('message', (m) => m.data === 4)).resolves.toMatchObject({ seq: 1 })
  }, 20_000)

  it('replays what a node missed while only its subscription was down, once each and in order', async () => {
    const [a, b] = [await node('a'), await node('b')]
    const reader = await a.connect()
    await join(reader, 'room')
    const publisher = await b.connect()
    await join(publisher, 'room')
    for (let i = 1; i <= 3; i++) await b.server.broadcast('room', 'e', i)
    await vi.waitFor(() => expect(reader.received('message')).toHaveLength(3))

    const admin = await redisClient(redis.url)
    try {
      const list = await admin.client('LIST')
      const line = String(list)
        .split('\n')
        .find((l) => l.includes('name=a ') && /flags=P/.test(l))
      const id = /id=(\d+)/.exec(line ?? '')?.[1]
      expect(id).toBeDefined()
      await admin.client('KILL', 'ID', id!)
    } finally {
      admin.disconnect()
    }
    // Published while node a cannot hear them: they reach its member from the history on recovery.
    for (let i = 4; i <= 8; i++) await b.server.broadcast('room', 'e', i)
    await vi.waitFor(() => expect(reader.received('message').at(-1)?.seq).toBe(8), 5000)
    for (let i = 9; i <= 10; i++) await b.server.broadcast('room', 'e', i)
    await vi.waitFor(() => expect(reader.received('message').at(-1)?.seq).toBe(10))
    expect(reader.received('message').map((m) => m.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(reader.received('reset')).toHaveLength(0)
  }, 15_000)
})
