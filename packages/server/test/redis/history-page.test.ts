import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { historyPageScript } from '../../src/redis/history-script'
import { keyLayout } from '../../src/redis/keys'
import { nodeScripts } from '../../src/redis/node-scripts'
import { roomScripts } from '../../src/redis/room-scripts'
import { seqsOf } from '../helpers'
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers'

let prefix = ''
let redis: Redis

beforeEach(async () => {
  prefix = uniquePrefix()
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 })
  await redis.connect()
})

afterEach(async () => {
  redis.disconnect()
  await deleteKeys(REDIS_URL, prefix)
})

/** A room whose history holds its last `historySize` of `count` messages, published by the real script. */
async function roomWith(count: number, historySize: number) {
  const keys = keyLayout(prefix)
  const limits = {
    historySize,
    historyMaxBytes: 1_048_576,
    idleTimeoutMs: 60_000,
    maxIdleRooms: 100,
    maxIdleHistoryBytes: 1_048_576,
  }
  const node = nodeScripts(redis, keys, prefix)
  await node.register('n1', 'g1', 5000)
  const { publish } = roomScripts(redis, keys, limits)
  for (let i = 1; i <= count; i++) {
    await publish({ nodeId: 'n1', generation: 'g1' }, 'r', {
      event: 'e',
      data: i,
      from: 'c',
      ts: i,
      id: `m${i}`,
    })
  }
  return historyPageScript(redis, keys)
}

describe('the Redis history page script', () => {
  it('pages back through the held history, oldest first, with more while older ones are held', async () => {
    const page = await roomWith(10, 100)
    const newest = await page('r', undefined, 4)
    expect(newest && [seqsOf(newest.frames), newest.more]).toEqual([[7, 8, 9, 10], true])
    const next = await page('r', 7, 4)
    expect(next && [seqsOf(next.frames), next.more]).toEqual([[3, 4, 5, 6], true])
    const last = await page('r', 3, 4)
    expect(last && [seqsOf(last.frames), last.more]).toEqual([[1, 2], false])
    expect(JSON.parse(last!.frames[0]!)).toMatchObject({ type: 'message', seq: 1, data: 1, id: 'm1' })
  })

  it('stops at the oldest message Redis holds, and answers null for a room it has no state of', async () => {
    const page = await roomWith(12, 5)
    const held = await page('r', undefined, 50)
    expect(held && [seqsOf(held.frames), held.more]).toEqual([[8, 9, 10, 11, 12], false])
    expect(await page('r', 8, 50)).toMatchObject({ frames: [], more: false })
    expect(await page('nobody', undefined, 50)).toBeNull()
  })
})
