import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRedisAdapter, type RedisAdapterOptions } from '../../src/redis/index'
import { startTestServer, TestClient, type TestServer } from '../helpers'
import {
  deleteKeys,
  type PrivateRedis,
  privateRedis,
  REDIS_URL,
  redisClient,
  spawnCliNode,
  uniquePrefix,
} from './redis-helpers'

const MiB = 1024 * 1024
let redis: PrivateRedis
let admin: Redis
let server: TestServer | undefined

async function node(adapter: RedisAdapterOptions = {}, options = {}): Promise<TestServer> {
  server = await startTestServer({
    rateLimitPerSec: 0,
    ...options,
    adapter: createRedisAdapter({ url: redis.url, keyPrefix: 'rw:', ...adapter }),
  })
  return server
}

async function health(): Promise<Record<string, unknown>> {
  return (await (await fetch(`${server!.httpUrl}/health`)).json()) as Record<string, unknown>
}

/** A metric's value in `/metrics` (without labels), or undefined when it is not there. */
async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server!.httpUrl}/metrics`)).text()
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return line === null ? undefined : Number(line[1])
}

/** Bytes Redis has allocated (`INFO memory`). */
async function usedMemory(): Promise<number> {
  const info = await admin.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1])
}

/** Send `count` publishes of `bytes` each without waiting, then wait for the last ack. */
async function flood(client: TestClient, room: string, count: number, bytes: number, ids = false) {
  const text = 'x'.repeat(bytes)
  for (let i = 1; i < count; i++) {
    client.send({ type: 'publish', room, event: 'e', data: text, ...(ids ? { id: `m${i}` } : {}) })
  }
  const last = await client.request({
    type: 'publish',
    room,
    event: 'e',
    data: text,
    ...(ids ? { id: `m${count}` } : {}),
  })
  expect(last.type).toBe('ack')
  return last
}

beforeEach(async () => {
  redis = await privateRedis()
  await redis.start()
  admin = await redisClient(redis.url)
})

afterEach(async () => {
  await server?.close()
  server = undefined
  admin.disconnect()
  await redis.stop()
})

describe('the Redis adapter bounding what it keeps in Redis', () => {
  it('holds at most historyMaxBytes of messages per room and indexes exactly the ids it holds', async () => {
    const { connect } = await node()
    const client = await connect()
    await client.request({ type: 'join', room: 'big' })
    await flood(client, 'big', 40, 60_000, true)
    const held = await admin.llen('rw:room:{big}:hist')
    // 1 MiB holds 17 frames of 60 KB and a little.
    expect(held).toBe(Math.floor(MiB / 60_100))
    expect(Number(await admin.memory('USAGE', 'rw:room:{big}:hist'))).toBeLessThan(1.2 * MiB)
    expect(await admin.zcard('rw:room:{big}:ids')).toBe(held)
    // A trimmed id may be published again (a new seq); a held one is still deduped.
    const again = await client.request({ type: 'publish', room: 'big', event: 'e', data: 1, id: 'm1' })
    expect(again).toMatchObject({ type: 'ack', seq: 41 })
    const dup = await client.request({ type: 'publish', room: 'big', event: 'e', data: 1, id: 'm40' })
    expect(dup).toMatchObject({ type: 'ack', seq: 40 })
  })

  it('keeps Redis within its idle budget against a join, flood and leave churn', async () => {
    const { connect } = await node({ maxIdleRooms: 100, maxIdleHistoryBytes: 4 * MiB })
    const attacker = await connect()
    // Load the scripts and size the connections' buffers before measuring.
    await attacker.request({ type: 'join', room: 'warm-up' })
    await flood(attacker, 'warm-up', 2, 60_000)
    await attacker.request({ type: 'leave', room: 'warm-up' })
    const before = await usedMemory()
    const rooms = 12
    for (let r = 0; r < rooms; r++) {
      const room = `churn-${r}`
      await attacker.request({ type: 'join', room })
      await flood(attacker, room, 40, 60_000)
      await attacker.request({ type: 'leave', room })
    }
    const grown = (await usedMemory()) - before
    // 12 rooms of 2.4 MB were published; kept: the idle budget and each room's small state.
    expect(grown).toBeLessThan(4 * MiB + rooms * 16 * 1024 + 2 * MiB)
    expect(await admin.zcard('rw:idle')).toBeLessThanOrEqual(rooms + 1)
    // The rooms freed early are the ones idle longest.
    expect(await admin.exists('rw:room:{churn-0}:state')).toBe(0)
    expect(await admin.exists(`rw:room:{churn-${rooms - 1}}:state`)).toBe(1)
  }, 60_000)

  it('frees the rooms idle longest past maxIdleRooms', async () => {
    const { connect } = await node({ maxIdleRooms: 5 })
    const client = await connect()
    for (let r = 0; r < 10; r++) {
      await client.request({ type: 'join', room: `r${r}` })
      await client.request({ type: 'publish', room: `r${r}`, event: 'e', data: r })
      await client.request({ type: 'leave', room: `r${r}` })
    }
    // Freed right after the leave that went past the cap (the node sweeps once the script says so).
    await vi.waitFor(async () => {
      const kept = []
      for (let r = 0; r < 10; r++) if ((await admin.exists(`rw:room:{r${r}}:state`)) === 1) kept.push(r)
      expect(kept).toEqual([5, 6, 7, 8, 9])
    })
    expect(await admin.zcard('rw:idle')).toBe(5)
  })

  it('counts the idle rooms Redis keeps, their history bytes and its early evictions in /health and /metrics', async () => {
    await node({ maxIdleRooms: 3, reapIntervalMs: 100 })
    const client = await server!.connect()
    // A room with a member counts in neither number.
    await client.request({ type: 'join', room: 'busy' })
    await client.request({ type: 'publish', room: 'busy', event: 'e', data: 'x'.repeat(500) })
    for (let r = 0; r < 5; r++) {
      await client.request({ type: 'join', room: `r${r}` })
      await client.request({ type: 'publish', room: `r${r}`, event: 'e', data: 'y'.repeat(100 * (r + 1)) })
      await client.request({ type: 'leave', room: `r${r}` })
    }
    // The three kept are the three left last; what their history holds, as Redis counts it per room.
    let bytes = 0
    for (const r of [2, 3, 4]) bytes += Number(await admin.hget(`rw:room:{r${r}}:state`, 'bytes'))
    expect(bytes).toBeGreaterThan(300 + 400 + 500)
    await vi.waitFor(
      async () => expect(await health()).toMatchObject({ idleRooms: 3, historyBytes: bytes }),
      {
        timeout: 5000,
      },
    )
    expect(await metric('roomwire_idle_rooms')).toBe(3)
    expect(await metric('roomwire_history_bytes')).toBe(bytes)
    expect(await metric('roomwire_idle_rooms_evicted_total')).toBe(2)
    expect(await metric('roomwire_history_evicted_total')).toBe(0)
  })

  it('stops counting an idle room once its idle timeout passed, and forgets its index entry', async () => {
    await node({ reapIntervalMs: 100 }, { idleTimeoutMs: 300 })
    const client = await server!.connect()
    await client.request({ type: 'join', room: 'brief' })
    await client.request({ type: 'publish', room: 'brief', event: 'e', data: 1 })
    await client.request({ type: 'leave', room: 'brief' })
    await vi.waitFor(async () => expect(await health()).toMatchObject({ idleRooms: 1 }), { timeout: 5000 })
    expect((await health()).historyBytes).toBeGreaterThan(0)
    // The room's keys expire by their TTL; only a script takes its entry out of the index.
    await vi.waitFor(async () => expect(await admin.exists('rw:room:{brief}:state')).toBe(0), {
      timeout: 5000,
    })
    await vi.waitFor(async () => expect(await health()).toMatchObject({ idleRooms: 0, historyBytes: 0 }), {
      timeout: 5000,
    })
    expect(await admin.zcard('rw:idle')).toBe(0)
    expect(await admin.hlen('rw:idle:bytes')).toBe(0)
  })

  it('takes its idle bound from redis_max_idle_rooms in the reference server', async () => {
    const prefix = uniquePrefix()
    const node = await spawnCliNode(prefix, ['--redis-max-idle-rooms', '3'])
    const shared = await redisClient(REDIS_URL)
    try {
      const client = new TestClient(node.url)
      await client.next('welcome')
      for (let r = 0; r < 6; r++) {
        await client.request({ type: 'join', room: `r${r}` })
        await client.request({ type: 'leave', room: `r${r}` })
      }
      await vi.waitFor(async () =>
        expect(await shared.zrange(`${prefix}idle`, '0', '-1')).toEqual(['r3', 'r4', 'r5']),
      )
      await client.close()
    } finally {
      node.child.kill('SIGKILL')
      await node.exited
      shared.disconnect()
      await deleteKeys(REDIS_URL, prefix)
    }
  }, 30_000)

  it('refuses an idle bound that is not a positive integer', () => {
    expect(() => createRedisAdapter({ maxIdleRooms: 0 })).toThrow(
      /maxIdleRooms is 0; expected an integer above 0/,
    )
    expect(() => createRedisAdapter({ maxIdleHistoryBytes: 1.5 })).toThrow(/maxIdleHistoryBytes/)
  })
})
