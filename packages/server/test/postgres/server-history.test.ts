import type { HistoryMessage, JoinedMessage } from '@roomwire/protocol'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresHistory } from '../../src/postgres/index'
import { startTestServer, type TestClient } from '../helpers'
import { adminPool, POSTGRES_URL, storedSeqs, uniqueTable } from './pg-helpers'

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

function table(): string {
  const name = uniqueTable()
  tables.push(name)
  return name
}

/** A server whose rooms live in `name` (the server closes the store with itself). */
function serverOn(name: string, options: Parameters<typeof startTestServer>[0] = {}) {
  return startTestServer({
    historyStore: createPostgresHistory({ connectionString: POSTGRES_URL, retention, table: name }),
    rateLimitPerSec: 0,
    ...options,
  })
}

async function publishN(client: TestClient, room: string, from: number, to: number) {
  for (let i = from; i <= to; i++) await client.request({ type: 'publish', room, event: 'chat', data: i })
}

describe('a server with the PostgreSQL history store', () => {
  it('acknowledges a publish only once its row is committed', async () => {
    const name = table()
    await using server = await serverOn(name)
    await using alice = await server.connect({ join: 'acked' })
    for (let seq = 1; seq <= 5; seq++) {
      const ack = await alice.request({ type: 'publish', room: 'acked', event: 'chat', data: seq })
      expect(ack).toMatchObject({ type: 'ack', seq })
      // Another connection sees the row the moment the ack arrived.
      expect(await storedSeqs(admin, name, 'acked')).toHaveLength(seq)
    }
  })

  it('keeps every room epoch and seq across a restart: clients rejoin recovered with exactly what they missed', async () => {
    const name = table()
    const first = await serverOn(name)
    const alice = await first.connect({ join: 'team' })
    const bob = await first.connect({ join: 'team' })
    await publishN(alice, 'team', 1, 5)
    await bob.next('message', (m) => m.seq === 5)
    const seen = bob.received('joined')[0]!
    // Bob goes away at seq 5; alice publishes three more; then the server restarts.
    await bob.close()
    await publishN(alice, 'team', 6, 8)
    await first.close()

    await using second = await serverOn(name)
    await using bob2 = await second.connect()
    bob2.send({ type: 'join', room: 'team', since: 5, epoch: seen.epoch })
    const joined = (await bob2.next('joined')) as JoinedMessage
    expect(joined).toMatchObject({ epoch: seen.epoch, seq: 8, recovered: true, replay: 3 })
    await bob2.next('message', (m) => m.seq === 8)
    expect(bob2.received('message').map((m) => [m.seq, m.data])).toEqual([
      [6, 6],
      [7, 7],
      [8, 8],
    ])
    // The room goes on from seq 8 in the same epoch.
    await using alice2 = await second.connect({ join: 'team' })
    expect(await alice2.request({ type: 'publish', room: 'team', event: 'chat', data: 9 })).toMatchObject({
      seq: 9,
    })
    await expect(bob2.next('message', (m) => m.seq === 9)).resolves.toMatchObject({ data: 9 })
    expect(bob2.received('message')).toHaveLength(4)
  })

  it('does not publish again a message id stored before the restart: the retry is acked with its seq', async () => {
    const name = table()
    const first = await serverOn(name)
    const alice = await first.connect({ join: 'dedupe' })
    const original = await alice.request({
      type: 'publish',
      room: 'dedupe',
      event: 'chat',
      data: 'x',
      id: 'm-1',
    })
    expect(original).toMatchObject({ seq: 1 })
    await publishN(alice, 'dedupe', 2, 3)
    await first.close()

    // historySize 1: the id is no longer in the ring after the restart, only in the store.
    await using second = await serverOn(name, { historySize: 1 })
    await using alice2 = await second.connect({ join: 'dedupe' })
    await using bob = await second.connect({ join: 'dedupe' })
    const retry = await alice2.request({
      type: 'publish',
      room: 'dedupe',
      event: 'chat',
      data: 'x',
      id: 'm-1',
    })
    expect(retry).toMatchObject({ type: 'ack', seq: 1 })
    expect(await alice2.request({ type: 'publish', room: 'dedupe', event: 'chat', data: 'y' })).toMatchObject(
      {
        seq: 4,
      },
    )
    await bob.next('message', (m) => m.seq === 4)
    expect(bob.received('message').map((m) => m.seq)).toEqual([4])
    expect(await storedSeqs(admin, name, 'dedupe')).toEqual([1, 2, 3, 4])
  })

  it('pages back from the store past what a join replays, 300 messages in pages of 200', async () => {
    const name = table()
    await using server = await serverOn(name, { historySize: 20 })
    await using alice = await server.connect({ join: 'long' })
    await publishN(alice, 'long', 1, 300)
    const first = (await alice.request({
      type: 'history',
      room: 'long',
      limit: 200,
      ref: 1,
    })) as HistoryMessage
    expect([first.messages[0]!.seq, first.messages.at(-1)!.seq, first.more]).toEqual([101, 300, true])
    const second = (await alice.request({
      type: 'history',
      room: 'long',
      before: 101,
      limit: 200,
      ref: 2,
    })) as HistoryMessage
    expect([second.messages.length, second.messages[0]!.seq, second.more]).toEqual([100, 1, false])
  })

  it('refuses publishes with unavailable and reports degraded while PostgreSQL cannot be reached', async () => {
    await using server = await startTestServer({
      historyStore: createPostgresHistory({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
        retention,
        table: table(),
        probeIntervalMs: 60_000,
      }),
    })
    await using alice = await server.connect()
    alice.send({ type: 'join', room: 'down', ref: 'j' })
    await expect(alice.next('error')).resolves.toMatchObject({ code: 'unavailable', ref: 'j' })
    const health = await (await fetch(`${server.httpUrl}/health`)).json()
    expect(health).toMatchObject({ status: 'degraded', reason: expect.stringContaining('postgres') })
  })
})
