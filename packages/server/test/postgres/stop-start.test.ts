import type { ServerMessage } from '@roomwire/protocol'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import {
  createPostgresCluster,
  findPostgresBin,
  type PostgresCluster,
  type PostgresStopMode,
} from '../../../../scripts/services/postgres'
import { createPostgresHistory } from '../../src/postgres/index'
import { startTestServer, type TestClient, type TestServer } from '../helpers'
import { uniqueTable } from './pg-helpers'

// A PostgreSQL of this file's own, on a loopback port of its own: the test stops and starts it, which the
// shared one must never be.
let cluster: PostgresCluster

beforeAll(async () => {
  const bin = findPostgresBin()
  if (bin === undefined) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl): install postgresql')
  cluster = await createPostgresCluster(bin)
  await cluster.start()
}, 30_000)

// A test that failed while PostgreSQL was down leaves it running for the next.
afterEach(() => cluster.start(), 30_000)
afterAll(() => cluster?.remove(), 30_000)

const ROOM = 'stream'
const bounded = { timeout: 10_000, interval: 20 }

interface Publisher {
  readonly client: TestClient
  /** Message ids acknowledged, in the order their acks came, with their seq. */
  readonly acked: { id: string; seq: number }[]
  /** Message ids refused, with the refusal. */
  readonly refused: { id: string; reply: ServerMessage }[]
}

/** Publish one message with `id` and file the answer. */
async function publish(p: Publisher, id: string): Promise<ServerMessage> {
  const reply = await p.client.request({ type: 'publish', room: ROOM, event: 'chat', data: { id }, id })
  // A publish's ack always carries its seq.
  if (reply.type === 'ack') p.acked.push({ id, seq: reply.seq! })
  else p.refused.push({ id, reply })
  return reply
}

/** Publish `name-1`, `name-2`, ... one after another until the first refusal. */
async function streamUntilRefused(p: Publisher, name: string): Promise<void> {
  for (let n = 1; p.refused.length === 0; n++) await publish(p, `${name}-${n}`)
}

async function health(server: TestServer): Promise<{ status: string; reason?: string }> {
  return (await fetch(`${server.httpUrl}/health`)).json() as Promise<{ status: string; reason?: string }>
}

describe('the PostgreSQL history store when PostgreSQL is stopped and started mid-stream', () => {
  it.each(['fast', 'immediate'] as PostgresStopMode[])(
    'refuses publishes while down (stop -m %s), goes on delivering, and recovers by itself with every acked message stored once in order',
    async (mode) => {
      const table = uniqueTable()
      const url = `${cluster.server}/postgres`
      await using server = await startTestServer({
        historyStore: createPostgresHistory({
          connectionString: url,
          retention: { maxAgeMs: 3650 * 86_400_000 },
          table,
          probeIntervalMs: 50,
          poolOptions: { connectTimeoutMs: 1000, queryTimeoutMs: 2000 },
        }),
        rateLimitPerSec: 0,
      })
      const publishers: Publisher[] = []
      for (let i = 0; i < 2; i++) {
        publishers.push({ client: await server.connect({ join: ROOM }), acked: [], refused: [] })
      }
      const [alice, carol] = publishers as [Publisher, Publisher]
      await using bob = await server.connect({ join: ROOM })

      // Both publish one message after another; PostgreSQL stops under them.
      const streams = [streamUntilRefused(alice, 'alice'), streamUntilRefused(carol, 'carol')]
      await vi.waitFor(() => expect(alice.acked.length + carol.acked.length).toBeGreaterThan(40), bounded)
      await cluster.stop(mode)
      await Promise.all(streams)

      // Down: refused with unavailable, the connections stay up, /health says degraded.
      for (const p of publishers) {
        expect(p.refused[0]!.reply).toMatchObject({ type: 'error', code: 'unavailable' })
      }
      await vi.waitFor(async () => {
        expect(await health(server)).toMatchObject({
          status: 'degraded',
          reason: expect.stringContaining('postgres'),
        })
      }, bounded)
      for (let n = 1; n <= 5; n++) {
        expect(await publish(alice, `down-${n}`)).toMatchObject({
          type: 'error',
          code: 'unavailable',
          message: expect.stringContaining('retry'),
        })
      }
      // Live delivery of what was stored goes on: bob has every acknowledged message, and a member joining
      // now gets the stored messages replayed from memory.
      const acked = () => [...alice.acked, ...carol.acked].sort((a, b) => a.seq - b.seq)
      const lastAcked = acked().at(-1)!.seq
      await vi.waitFor(() => expect(bob.received('message').at(-1)?.seq).toBe(lastAcked), bounded)
      // ...and nothing of what was refused.
      expect(bob.received('message').map((m) => m.seq)).toEqual(acked().map((a) => a.seq))
      await using dave = await server.connect()
      dave.send({ type: 'join', room: ROOM, history: 20 })
      await expect(dave.next('joined')).resolves.toMatchObject({ seq: lastAcked, replay: 20 })
      await vi.waitFor(
        () =>
          expect(dave.received('message').map((m) => m.seq)).toEqual(
            acked()
              .slice(-20)
              .map((a) => a.seq),
          ),
        bounded,
      )
      for (const p of publishers) expect(p.client.ws.readyState).toBe(WebSocket.OPEN)

      await cluster.start()
      await vi.waitFor(async () => expect(await health(server)).toMatchObject({ status: 'ok' }), bounded)
      const admin = new pg.Pool({ connectionString: url, max: 1 })
      try {
        const ids = async () =>
          (await admin.query(`SELECT seq, message_id FROM "${table}" WHERE room = $1 ORDER BY seq`, [ROOM]))
            .rows as { seq: string; message_id: string }[]
        // Refused at once while down: nothing of them was stored.
        expect((await ids()).filter((r) => r.message_id.startsWith('down-'))).toEqual([])

        // Each client retries what it was refused, with the same id: every retry is acknowledged.
        for (const p of publishers) {
          for (const { id } of p.refused.splice(0)) {
            await expect(publish(p, id)).resolves.toMatchObject({ type: 'ack' })
          }
          await expect(publish(p, `${p === alice ? 'alice' : 'carol'}-after`)).resolves.toMatchObject({
            type: 'ack',
          })
        }
        // Every acknowledged message is stored exactly once, in acknowledgment order, without a gap; and
        // bob got each of them once, in seq order.
        const rows = await ids()
        expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1))
        expect(new Set(rows.map((r) => r.message_id)).size).toBe(rows.length)
        const storedSeq = new Map(rows.map((r) => [r.message_id, Number(r.seq)]))
        for (const p of publishers) {
          expect(p.acked.map(({ id, seq }) => [id, seq])).toEqual(
            p.acked.map(({ id }) => [id, storedSeq.get(id)]),
          )
          const seqs = p.acked.map((a) => a.seq)
          expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b))
        }
        expect(new Set(acked().map((a) => a.id))).toEqual(new Set(storedSeq.keys()))
        await vi.waitFor(() => expect(bob.received('message')).toHaveLength(rows.length), bounded)
        expect(bob.received('message').map((m) => [m.seq, m.id])).toEqual(
          rows.map((r) => [Number(r.seq), r.message_id]),
        )
        await admin.query(`DROP TABLE IF EXISTS "${table}"`)
      } finally {
        await admin.end()
        for (const p of publishers) await p.client.close()
      }
    },
    30_000,
  )
})
