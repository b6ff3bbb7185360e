import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { keyLayout } from '../../src/redis/keys'
import { nodeScripts } from '../../src/redis/node-scripts'
import { roomScripts } from '../../src/redis/room-scripts'
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers'

let prefix = ''
let redis: Redis

const limits = {
  historySize: 100,
  historyMaxBytes: 1_048_576,
  idleTimeoutMs: 60_000,
  maxIdleRooms: 100,
  maxIdleHistoryBytes: 1_048_576,
}

beforeEach(async () => {
  prefix = uniquePrefix()
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 })
  await redis.connect()
})

afterEach(async () => {
  redis.disconnect()
  await deleteKeys(REDIS_URL, prefix)
})

function scripts() {
  const keys = keyLayout(prefix)
  return { keys, node: nodeScripts(redis, keys, prefix), room: roomScripts(redis, keys, limits) }
}

describe("the Redis scripts, fenced by a node's generation", () => {
  it('never brings back a reaped node when one of its heartbeats reaches Redis late', async () => {
    const { keys, node } = scripts()
    await node.register('n1', 'g1', 5000)
    // The reaper forgets the node once its key lapsed.
    await redis.del(keys.node('n1'))
    await expect(node.heartbeat('n1', 'g1', 5000, 'probe')).resolves.toBe(false)
    expect(await redis.exists(keys.node('n1'))).toBe(0)
  })

  it('refreshes only the current registration, not one the node has replaced', async () => {
    const { keys, node } = scripts()
    await node.register('n1', 'g1', 5000)
    await node.register('n1', 'g2', 5000)
    await expect(node.heartbeat('n1', 'g1', 60_000, 'probe')).resolves.toBe(false)
    expect(await redis.pttl(keys.node('n1'))).toBeLessThanOrEqual(5000)
    await expect(node.heartbeat('n1', 'g2', 60_000, 'probe')).resolves.toBe(true)
    expect(await redis.pttl(keys.node('n1'))).toBeGreaterThan(5000)
  })

  it('adds no member for a join sent under a generation the node has since replaced', async () => {
    const { keys, node, room } = scripts()
    await node.register('n1', 'g1', 5000)
    await node.register('n1', 'g2', 5000)
    const reply = await room.join(
      { nodeId: 'n1', generation: 'g1' },
      { room: 'r', member: { id: 'c1' }, maxMembers: 10, replay: {}, mark: 'm' },
    )
    expect(reply).toEqual({ ok: false, reason: 'fenced' })
    expect(await redis.hlen(keys.room('r').members)).toBe(0)
  })

  it('publishes nothing for a node whose registration lapsed', async () => {
    const { keys, room } = scripts()
    const reply = await room.publish({ nodeId: 'n1', generation: 'g1' }, 'r', {
      event: 'e',
      data: 1,
      from: 'c1',
      ts: 0,
    })
    expect(reply).toEqual({ ok: false, reason: 'fenced' })
    expect(await redis.exists(keys.room('r').state)).toBe(0)
  })
})
