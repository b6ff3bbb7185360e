import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPostgresHistory } from '../../src/postgres/index'
import { adminPool, POSTGRES_URL, storedSeqs, uniqueTable } from '../postgres/pg-helpers'
import { deleteKeys, REDIS_URL, startNode, uniquePrefix } from './redis-helpers'

const retention = { maxAgeMs: 3650 * 86_400_000 }
let admin: pg.Pool
const tables: string[] = []

beforeAll(() => {
  admin = adminPool()
})

afterAll(async () => {
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

describe('the Redis adapter with a Postgres history store, one message id from several connections at once', () => {
  // A reconnected client resends while its old socket's publish is still in flight (or two tabs share an
  // outbox): both reached the store's dedupe lookup before either was stored, and both were stored.
  it('stores and delivers it once, and every publisher is acked with its one seq', async () => {
    const table = uniqueTable()
    tables.push(table)
    const prefix = uniquePrefix()
    await using node = await startNode(
      prefix,
      {},
      {
        historyStore: createPostgresHistory({ connectionString: POSTGRES_URL, retention, table }),
        rateLimitPerSec: 0,
      },
    )
    const publishers = await Promise.all([1, 2, 3, 4].map(() => node.connect({ join: 'room' })))
    const watcher = await node.connect({ join: 'room' })
    for (let i = 0; i < 5; i++) {
      const id = `id-${i}`
      const acks = await Promise.all(
        publishers.map((p) => p.request({ type: 'publish', room: 'room', event: 'e', data: i, id })),
      )
      expect(acks.map((ack) => ack.type)).toEqual(['ack', 'ack', 'ack', 'ack'])
      expect(new Set(acks.map((ack) => (ack as { seq?: number }).seq)).size).toBe(1)
    }
    await vi.waitFor(() => expect(watcher.received('message')).toHaveLength(5))
    expect(watcher.received('message').map((m) => [m.id, m.seq])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [`id-${i}`, i + 1]),
    )
    expect(await storedSeqs(admin, table, 'room')).toEqual([1, 2, 3, 4, 5])
    await node.close()
    await deleteKeys(REDIS_URL, prefix)
  })
})
