import { randomBytes } from 'node:crypto'
import { createPostgresHistory } from '@roomwire/server/postgres'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { testEnv } from '../../../scripts/test-env'
import { createTestServer } from '../src/index'
import { chat } from './chat'

const url = testEnv('RW_TEST_POSTGRES_URL')
// A table of this file's own, dropped at the end.
const table = `rw_test_kit_${randomBytes(6).toString('hex')}`
const retention = { maxAgeMs: 86_400_000 }

afterAll(async () => {
  const admin = new pg.Pool({ connectionString: url, max: 1 })
  await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

describe('with a durable history store', () => {
  it('starts with the kit memory adapter, and a restart resumes from what the store committed', async () => {
    const historyStore = () => createPostgresHistory({ connectionString: url, table, retention })
    await using server = await createTestServer({ protocol: chat, historyStore })
    await using alice = await server.connect({ user: 'alice' })
    const room = alice.join('durable')
    await room.ready
    await room.publish('chat', { text: 'one' })
    await room.publish('chat', { text: 'two' })
    const { epoch } = room.getSnapshot()
    await server.restart()
    await alice.room('durable').waitFor('joined')
    // The store kept the room: same epoch, the seq goes on, no resync.
    await expect(room.publish('chat', { text: 'three' })).resolves.toEqual({ seq: 3 })
    expect(room.getSnapshot().epoch).toBe(epoch)
    expect(alice.room('durable').received('resync')).toEqual([])
    const health = await (await fetch(`${server.httpUrl}/health`)).json()
    expect(health).toMatchObject({ status: 'ok' })
  })

  it('refuses restart() with a store object, which the first server closed', async () => {
    const historyStore = createPostgresHistory({ connectionString: url, table, retention })
    await using server = await createTestServer({ protocol: chat, historyStore })
    await expect(server.restart()).rejects.toMatchObject({
      code: 'misuse',
      message: expect.stringContaining('historyStore as a function'),
    })
  })
})
