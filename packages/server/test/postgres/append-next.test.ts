import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresHistory, type PostgresHistory } from '../../src/postgres/index'
import { adminPool, POSTGRES_URL, storedSeqs, uniqueTable } from './pg-helpers'

const retention = { maxAgeMs: 3650 * 86_400_000 }

let admin: pg.Pool
const tables: string[] = []
const stores: PostgresHistory[] = []

function openStore(table: string): PostgresHistory {
  const store = createPostgresHistory({ connectionString: POSTGRES_URL, retention, table })
  stores.push(store)
  return store
}

function message(room: string, n: number, id?: string) {
  return { room, event: 'chat', data: { n }, from: 'c_alice', ts: 1_700_000_000_000 + n, id }
}

beforeAll(() => {
  admin = adminPool()
})

afterAll(async () => {
  for (const store of stores) await store.close()
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

describe('appendNext (the store assigns the seq)', () => {
  it('gives writers on three stores of one table every seq once, without a gap, in the first epoch', async () => {
    const table = uniqueTable()
    tables.push(table)
    const writers = [openStore(table), openStore(table), openStore(table)]
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        writers[i % 3]!.appendNext!(message('room', i), { epoch: 'e_first', seq: 0 }),
      ),
    )
    const seqs = outcomes.map((o) => (o.ok ? o.seq : -1)).sort((a, b) => a - b)
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(new Set(outcomes.map((o) => (o.ok ? o.epoch : 'refused')))).toEqual(new Set(['e_first']))
    expect(await storedSeqs(admin, table, 'room')).toEqual(seqs)
  })

  it('keeps one writer’s messages of a room in the order they were appended', async () => {
    const table = uniqueTable()
    tables.push(table)
    const [a, b] = [openStore(table), openStore(table)]
    const fromA = Array.from({ length: 100 }, (_, i) =>
      a.appendNext!(message('r', i), { epoch: 'e', seq: 0 }),
    )
    const fromB = Array.from({ length: 100 }, (_, i) =>
      b.appendNext!(message('r', i), { epoch: 'e', seq: 0 }),
    )
    const seqsOf = async (all: typeof fromA) => (await Promise.all(all)).map((o) => (o.ok ? o.seq : -1))
    for (const seqs of [await seqsOf(fromA), await seqsOf(fromB)]) {
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
      expect(seqs).not.toContain(-1)
    }
  })

  it('continues a room from its newest row, ignoring the fallback, and finds a message by its id', async () => {
    const table = uniqueTable()
    tables.push(table)
    const store = openStore(table)
    await store.appendNext!(message('r', 1), { epoch: 'e_kept', seq: 41 })
    const next = await store.appendNext!(message('r', 2, 'm2'), { epoch: 'e_other', seq: 0 })
    expect(next).toEqual({ ok: true, epoch: 'e_kept', seq: 43 })
    expect(await store.findId('r', 'm2')).toEqual({ ok: true, found: { epoch: 'e_kept', seq: 43 } })
    expect(await store.head('r')).toEqual({ ok: true, head: { epoch: 'e_kept', seq: 43 } })
  })
})
