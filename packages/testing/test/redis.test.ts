import { randomBytes } from 'node:crypto'
import { createRedisAdapter } from '@roomwire/server/redis'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { testEnv } from '../../../scripts/test-env'
import { createTestServer } from '../src/index'
import { chat } from './chat'

const url = testEnv('RW_TEST_REDIS_URL')
// A key prefix of this file's own, so parallel test files never share rooms.
const keyPrefix = `rwtest:testing:${randomBytes(6).toString('hex')}:`

afterAll(async () => {
  const redis = new Redis(url, { maxRetriesPerRequest: 0 })
  const keys = await redis.keys(`${keyPrefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

/** A Redis adapter made anew for each start (and restart) of a test server. */
const redisAdapter = () => () =>
  createRedisAdapter({ url, keyPrefix, nodeTtlMs: 1500, heartbeatIntervalMs: 300, reapIntervalMs: 300 })

describe('with the Redis adapter', () => {
  it('carries messages and members between two test servers sharing one Redis', async () => {
    await using east = await createTestServer({ protocol: chat, adapter: redisAdapter() })
    await using west = await createTestServer({ protocol: chat, adapter: redisAdapter() })
    await using alice = await east.connect({ user: 'alice' })
    await using bob = await west.connect({ user: 'bob' })
    await alice.join('cross', { presence: { name: 'Alice' } }).ready
    await bob.join('cross', { presence: { name: 'Bob' } }).ready
    await expect(alice.room('cross').next('member_joined')).resolves.toMatchObject({ user: 'bob' })
    await alice.room('cross').handle.publish('chat', { text: 'across' })
    await expect(bob.room('cross').next('chat')).resolves.toMatchObject({ data: { text: 'across' }, seq: 1 })
    await west.cut(bob)
    await expect(alice.room('cross').next('member_left')).resolves.toMatchObject({ user: 'bob' })
  })

  it('keeps the room in Redis across a restart: same epoch, seq goes on, no resync', async () => {
    await using server = await createTestServer({ protocol: chat, adapter: redisAdapter() })
    await using bob = await server.connect({ user: 'bob' })
    const room = bob.join('kept')
    await room.ready
    await room.publish('chat', { text: 'before' })
    const { epoch } = room.getSnapshot()
    await server.restart()
    await bob.room('kept').waitFor('joined')
    await expect(room.publish('chat', { text: 'after' })).resolves.toEqual({ seq: 2 })
    expect(room.getSnapshot().epoch).toBe(epoch)
    expect(bob.room('kept').received('resync')).toEqual([])
  })
})
