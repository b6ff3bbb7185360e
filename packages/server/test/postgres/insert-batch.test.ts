import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresHistory, type PostgresHistory } from '../../src/postgres/index'
import { adminPool, stored, storedSeqs, terminate, uniqueTable, urlNamed } from './pg-helpers'

// The insert statements on the store's own pool, where they are prepared (issue 18): a VALUES list of
// its own per row count up to 64 rows, nine arrays above. What the tests hold: one turn of appends is one
// statement, an append is acked only once that statement committed, and a statement that fails refuses
// every append in it and stores none of them.

const retention = { maxAgeMs: 3650 * 86_400_000 }
let admin: pg.Pool
const tables: string[] = []
const stores: PostgresHistory[] = []

function namedStore(): { store: PostgresHistory; table: string; name: string } {
  const table = uniqueTable()
  const name = `rw_${table}`
  tables.push(table)
  const store = createPostgresHistory({
    connectionString: urlNamed(name),
    retention,
    table,
    probeIntervalMs: 20,
  })
  stores.push(store)
  return { store, table, name }
}

/**
 * Hold every insert into `table` behind a lock until `release()`. `blocked()` resolves once a statement
 * of the store's waits on it.
 */
async function holdInserts(table: string, name: string) {
  const client = await admin.connect()
  await client.query('BEGIN')
  await client.query(`LOCK TABLE "${table}" IN SHARE MODE`)
  return {
    blocked: () => expect.poll(() => waitingOnLock(name), { timeout: 5000, interval: 5 }).toBeGreaterThan(0),
    async release() {
      await client.query('COMMIT')
      client.release()
    },
  }
}

async function waitingOnLock(name: string): Promise<number> {
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
    [name],
  )
  return rows[0].n
}

/** How many transactions wrote the room's rows (rows of one statement share its xmin). */
async function commits(table: string, room: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(DISTINCT xmin::text)::int AS n FROM "${table}" WHERE room = $1`,
    [room],
  )
  return rows[0].n
}

beforeAll(() => {
  admin = adminPool()
})

afterAll(async () => {
  for (const store of stores) await store.close()
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

describe('the insert statements of the store’s own pool', () => {
  it.each([1, 30, 64, 65, 200])(
    'commits %i appends of one turn in one statement and acks each only after the commit',
    async (count) => {
      const { store, table, name } = namedStore()
      await store.head('warmup') // the table exists before it is locked
      const room = `r${count}`
      const hold = await holdInserts(table, name)
      let settled = 0
      const appends = Array.from({ length: count }, (_, i) =>
        store.append(stored(room, i + 1)).then((outcome) => {
          settled++
          return outcome
        }),
      )
      await hold.blocked()
      await new Promise((resolve) => setImmediate(resolve))
      expect(settled).toBe(0)
      await hold.release()
      const outcomes = await Promise.all(appends)
      expect(outcomes).toEqual(Array.from({ length: count }, () => ({ ok: true })))
      expect(await storedSeqs(admin, table, room)).toEqual(Array.from({ length: count }, (_, i) => i + 1))
      expect(await commits(table, room)).toBe(1)
    },
  )

  it.each([30, 100])(
    'refuses all %i appends of a statement that failed as unavailable, and stores none of them',
    async (count) => {
      const { store, table, name } = namedStore()
      await store.head('warmup')
      const hold = await holdInserts(table, name)
      const appends = Array.from({ length: count }, (_, i) => store.append(stored('lost', i + 1)))
      await hold.blocked()
      // The store's connection dies while its statement waits: the statement never commits.
      expect(await terminate(admin, name)).toBeGreaterThan(0)
      const outcomes = await Promise.all(appends)
      await hold.release()
      expect(outcomes.every((o) => !o.ok && o.code === 'unavailable')).toBe(true)
      expect(await storedSeqs(admin, table, 'lost')).toEqual([])
      // Back up: the same seqs go in, as nothing of the failed statement was kept.
      await expect.poll(() => store.health().up, { timeout: 5000, interval: 10 }).toBe(true)
      const again = await Promise.all(
        Array.from({ length: count }, (_, i) => store.append(stored('lost', i + 1))),
      )
      expect(again.every((o) => o.ok)).toBe(true)
      expect(await storedSeqs(admin, table, 'lost')).toHaveLength(count)
    },
  )

  it('in a statement of arrays, acks the new rows and refuses the stored one; odd text goes in', async () => {
    const { store, table } = namedStore()
    expect(await store.append(stored('arrays', 70))).toEqual({ ok: true })
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        store.append(
          stored(
            'arrays',
            i + 1,
            i === 0 ? { data: { q: '"\\\'{},', lone: '\ud800' }, user: 'u\ud800' } : {},
          ),
        ),
      ),
    )
    expect(outcomes.map((o, i) => (o.ok ? 'ok' : `${o.code} ${i + 1}`)).filter((o) => o !== 'ok')).toEqual([
      'conflict 70',
    ])
    const { rows } = await admin.query(
      `SELECT data::text AS data, sender_user FROM "${table}" WHERE room = 'arrays' AND seq = 1`,
    )
    expect(JSON.parse(rows[0].data)).toEqual({ q: '"\\\'{},', lone: '\ud800' })
    // As node-postgres encodes text: a lone surrogate becomes U+FFFD.
    expect(rows[0].sender_user).toBe('u\ufffd')
  })
})
