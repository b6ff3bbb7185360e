import type { RoomEventMessage } from '@roomwire/protocol'
import type pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPostgresHistory } from '../../src/postgres/index'
import type { TestClient, TestServer } from '../helpers'
import { adminPool, POSTGRES_URL, storedSeqs, uniqueTable } from '../postgres/pg-helpers'
import { deleteKeys, REDIS_URL, startNode, uniquePrefix } from './redis-helpers'

const retention = { maxAgeMs: 3650 * 86_400_000 }

let admin: pg.Pool
const tables: string[] = []
let nodes: TestServer[] = []

/** Three nodes sharing one Redis prefix and one Postgres table, each with a store of its own. */
async function cluster(): Promise<{ nodes: TestServer[]; prefix: string; table: string }> {
  const prefix = uniquePrefix()
  const table = uniqueTable()
  tables.push(table)
  const started = await Promise.all(
    [1, 2, 3].map(() =>
      startNode(
        prefix,
        { commandTimeoutMs: 1000, maxReconnectDelayMs: 100 },
        {
          historyStore: createPostgresHistory({ connectionString: POSTGRES_URL, retention, table }),
          rateLimitPerSec: 0,
        },
      ),
    ),
  )
  nodes.push(...started)
  return { nodes: started, prefix, table }
}

/** Join, retrying while refused `unavailable` (a node that has not re-registered since the flush yet). */
async function join(client: TestClient, room: string, extra: { since?: number; epoch?: string } = {}) {
  for (;;) {
    const reply = await client.request({ type: 'join', room, ...extra })
    if (reply.type === 'joined') return reply
    if (reply.type !== 'error' || reply.code !== 'unavailable') {
      throw new Error(`join refused: ${JSON.stringify(reply)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Publish with an id (and echo, so every member gets every message), retrying while refused `unavailable` (as the SDK does); resolves the ack. */
async function publishUntilAcked(client: TestClient, id: string) {
  for (;;) {
    const reply = await client.request({
      type: 'publish',
      room: 'room',
      event: 'e',
      data: id,
      id,
      echo: true,
    })
    if (reply.type === 'ack') return reply
    if (reply.type !== 'error' || reply.code !== 'unavailable') {
      throw new Error(`publish refused: ${JSON.stringify(reply)}`)
    }
    // A retry backoff, as the SDK's.
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const messagesOf = (client: TestClient): RoomEventMessage[] => client.received('message')

beforeAll(() => {
  admin = adminPool()
})

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  nodes = []
})

afterAll(async () => {
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

describe('the Redis adapter with a Postgres history store when Redis loses everything mid-stream', () => {
  it('delivers every acked message once, in order, to every member, and the seq goes on without a fork', async () => {
    const {
      nodes: [a, b, c],
      prefix,
      table,
    } = await cluster()
    const members = [await a!.connect(), await b!.connect(), await c!.connect()]
    for (const member of members) await join(member, 'room')
    const acked = new Map<string, number>()
    let flushed: Promise<void> | undefined
    await Promise.all(
      members.map(async (member, n) => {
        for (let i = 1; i <= 30; i++) {
          const id = `n${n}-${i}`
          const ack = await publishUntilAcked(member, id)
          acked.set(id, ack.seq!)
          // Mid-stream, while the others are publishing: Redis loses every key of the cluster.
          if (n === 0 && i === 10) flushed = deleteKeys(REDIS_URL, prefix)
        }
      }),
    )
    await flushed
    const total = 90
    expect([...acked.values()].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    for (const member of members) {
      await vi.waitFor(() => expect(messagesOf(member)).toHaveLength(total), 15_000)
      const got = messagesOf(member)
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      for (const m of got) expect(acked.get(m.id!)).toBe(m.seq)
      expect(member.received('reset')).toHaveLength(0)
    }
    expect(await storedSeqs(admin, table, 'room')).toEqual(Array.from({ length: total }, (_, i) => i + 1))
  }, 60_000)

  it('gives a client that rejoins on another node after the flush recovered: true and exactly what it missed', async () => {
    const {
      nodes: [a, b],
      prefix,
    } = await cluster()
    const publisher = await a!.connect()
    await join(publisher, 'room')
    const leaver = await b!.connect()
    const first = await join(leaver, 'room')
    for (let i = 1; i <= 5; i++) await publishUntilAcked(publisher, `m${i}`)
    await leaver.next('message', (m) => m.seq === 5)
    await leaver.close()
    for (let i = 6; i <= 8; i++) await publishUntilAcked(publisher, `m${i}`)
    await deleteKeys(REDIS_URL, prefix)
    for (let i = 9; i <= 12; i++) await publishUntilAcked(publisher, `m${i}`)

    const back = await b!.connect()
    const joined = await join(back, 'room', { since: 5, epoch: first.epoch })
    expect(joined).toMatchObject({ epoch: first.epoch, seq: 12, recovered: true })
    await vi.waitFor(() => expect(messagesOf(back)).toHaveLength(7))
    expect(messagesOf(back).map((m) => m.data)).toEqual(['m6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12'])
    // Pages come from the store: all twelve, although Redis's history starts after the flush.
    const page = await back.request({ type: 'history', room: 'room', limit: 50, ref: 'page' })
    expect(page).toMatchObject({ type: 'history', epoch: first.epoch, more: false })
    const paged = page.type === 'history' ? page.messages.map((m) => m.seq) : []
    expect(paged).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
  }, 30_000)

  it('answers a retry of a publish acked before the flush with its seq, and stores and delivers it once', async () => {
    const {
      nodes: [a, b],
      prefix,
      table,
    } = await cluster()
    const alice = await a!.connect()
    const bob = await b!.connect()
    await join(alice, 'room')
    await join(bob, 'room')
    const original = await publishUntilAcked(alice, 'once')
    await deleteKeys(REDIS_URL, prefix)
    const retry = await publishUntilAcked(bob, 'once')
    expect(retry.seq).toBe(original.seq)
    const next = await publishUntilAcked(bob, 'after')
    expect(next.seq).toBe(original.seq! + 1)
    await bob.next('message', (m) => m.seq === next.seq, 10_000)
    expect(messagesOf(bob).map((m) => m.data)).toEqual(['once', 'after'])
    expect(await storedSeqs(admin, table, 'room')).toEqual([1, 2])
  }, 30_000)

  it('hands on a message a node committed but never relayed (it died in between) before the next one', async () => {
    const {
      nodes: [a, b],
      table,
    } = await cluster()
    const alice = await a!.connect()
    const bob = await b!.connect()
    const joined = await join(alice, 'room')
    await join(bob, 'room')
    for (let i = 1; i <= 3; i++) await publishUntilAcked(alice, `m${i}`)
    // What a node that died after its commit leaves behind: seq 4 stored, never relayed through Redis.
    await admin.query(
      `INSERT INTO "${table}" (room, seq, epoch, event, data, sender, message_id, ts) VALUES ('room', 4, $1, 'e', '"orphan"', 'c_gone', 'orphan', $2)`,
      [joined.epoch, Date.now()],
    )
    const next = await publishUntilAcked(alice, 'm5')
    expect(next.seq).toBe(5)
    for (const member of [alice, bob]) {
      await vi.waitFor(() => expect(messagesOf(member)).toHaveLength(5), 10_000)
      expect(messagesOf(member).map((m) => [m.seq, m.data])).toEqual([
        [1, 'm1'],
        [2, 'm2'],
        [3, 'm3'],
        [4, 'orphan'],
        [5, 'm5'],
      ])
    }
  }, 30_000)

  it('refuses a publish with unavailable, hands nothing on and reports degraded while PostgreSQL is away', async () => {
    const {
      nodes: [good],
      prefix,
    } = await cluster()
    const down = await startNode(
      prefix,
      {},
      {
        historyStore: createPostgresHistory({
          connectionString: 'postgres://postgres@127.0.0.1:1/test',
          retention,
          table: uniqueTable(),
          probeIntervalMs: 60_000,
        }),
      },
    )
    nodes.push(down)
    const alice = await good!.connect()
    await join(alice, 'room')
    const bob = await down.connect()
    await join(bob, 'room')
    const reply = await bob.request({ type: 'publish', room: 'room', event: 'e', data: 'lost', echo: true })
    expect(reply).toMatchObject({ type: 'error', code: 'unavailable' })
    const health = await (await fetch(`${down.httpUrl}/health`)).json()
    expect(health).toMatchObject({ status: 'degraded', reason: expect.stringContaining('postgres') })
    await publishUntilAcked(alice, 'kept')
    await bob.next('message', (m) => m.data === 'kept')
    expect(messagesOf(bob).map((m) => [m.seq, m.data])).toEqual([[1, 'kept']])
  }, 30_000)
})
