import { encode, type RoomEventMessage, RoomEventMessageSchema } from '@roomwire/protocol'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresHistory, type PostgresHistory, type PostgresPool } from '../../src/postgres/index'
import { adminPool, POSTGRES_URL, stored, storedSeqs, uniqueTable } from './pg-helpers'

const DAY = 86_400_000
const retention = { maxAgeMs: 3650 * DAY }

let admin: pg.Pool
const tables: string[] = []
const stores: PostgresHistory[] = []

/** A store on a table of its own, closed and dropped after the file. */
function openStore(options: { pool?: PostgresPool; table?: string } = {}): {
  store: PostgresHistory
  table: string
} {
  const table = options.table ?? uniqueTable()
  tables.push(table)
  const where = options.pool === undefined ? { connectionString: POSTGRES_URL } : { pool: options.pool }
  const store = createPostgresHistory({ ...where, retention, table })
  stores.push(store)
  return { store, table }
}

/** A pool that counts the statements that pass through it, and can hold back inserts. */
function countingPool(real: pg.Pool): PostgresPool & { inserts: number; hold: Promise<void> | undefined } {
  const wrapper = {
    inserts: 0,
    hold: undefined as Promise<void> | undefined,
    async query(text: string, values?: unknown[]) {
      // The batch insert (`WITH ins AS (INSERT ...`): the sequenced one starts `WITH head`.
      if (/^(INSERT|WITH ins AS \(\s*INSERT)/.test(text)) {
        wrapper.inserts++
        if (wrapper.hold !== undefined) await wrapper.hold
      }
      return real.query(text, values)
    },
  }
  return wrapper
}

beforeAll(() => {
  admin = adminPool()
})

afterAll(async () => {
  for (const store of stores) await store.close()
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.query('DROP SCHEMA IF EXISTS rw_test_schema_store CASCADE')
  await admin.end()
})

describe('createPostgresHistory', () => {
  it('pages back through 10,000 messages giving each exactly once, in order, newest last', async () => {
    const pool = countingPool(admin)
    const { store } = openStore({ pool })
    const appended = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => store.append(stored('big', i + 1))),
    )
    expect(appended.every((a) => a.ok)).toBe(true)
    // Batched: far fewer statements than messages (500 rows at most each).
    expect(pool.inserts).toBeLessThanOrEqual(40)
    expect(pool.inserts).toBeGreaterThanOrEqual(20)

    const seen: number[] = []
    let before: number | undefined
    let pages = 0
    for (;;) {
      const page = await store.page('big', {
        epoch: 'e_test',
        limit: 200,
        ...(before === undefined ? {} : { before }),
      })
      if (!page.ok) throw new Error(page.message)
      const seqs = page.frames.map((f) => RoomEventMessageSchema.parse(JSON.parse(f)).seq)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      seen.unshift(...seqs)
      pages++
      if (!page.more) break
      before = seqs[0]
    }
    expect(pages).toBe(50)
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1))
  })

  it('resolves an append only after its row is committed, and gathers one turn into one statement', async () => {
    const pool = countingPool(admin)
    const { store, table } = openStore({ pool })
    await store.head('warmup') // the table exists before the held insert
    let release!: () => void
    pool.hold = new Promise((resolve) => {
      release = resolve
    })
    let settled = 0
    const appends = Array.from({ length: 20 }, (_, i) =>
      store.append(stored('held', i + 1)).then((outcome) => {
        settled++
        return outcome
      }),
    )
    await expect.poll(() => pool.inserts).toBe(1)
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(0)
    expect(await storedSeqs(admin, table, 'held')).toEqual([])
    release()
    const outcomes = await Promise.all(appends)
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ ok: true })))
    expect(pool.inserts).toBe(1)
    // Another connection sees them the moment the appends resolve: they were committed.
    expect(await storedSeqs(admin, table, 'held')).toHaveLength(20)
  })

  it('gives a room head, and a new store on the same table continues it', async () => {
    const { store, table } = openStore()
    expect(await store.head('continued')).toEqual({ ok: true, head: null })
    for (let seq = 1; seq <= 3; seq++) await store.append(stored('continued', seq, { epoch: 'e_first' }))
    expect(store.health()).toEqual({ up: true })
    await store.close()
    // A closed store refuses everything; a server handed it (reused across a restart) reports it in /health.
    expect(store.health()).toEqual({ up: false, reason: 'postgres: the history store is closed' })
    const again = openStore({ table }).store
    expect(await again.head('continued')).toEqual({ ok: true, head: { epoch: 'e_first', seq: 3 } })
  })

  it('finds a message id for dedupe, also while its append is still being committed', async () => {
    const { store } = openStore()
    const first = store.append(stored('dedupe', 1, { id: 'm-1' }))
    // Asked in the same turn as the append: answered once it is committed.
    const racing = store.findId('dedupe', 'm-1')
    expect(await first).toEqual({ ok: true })
    expect(await racing).toEqual({ ok: true, found: { epoch: 'e_test', seq: 1 } })
    await store.append(stored('dedupe', 2, { id: 'm-2' }))
    expect(await store.findId('dedupe', 'm-2')).toEqual({ ok: true, found: { epoch: 'e_test', seq: 2 } })
    expect(await store.findId('dedupe', 'm-3')).toEqual({ ok: true, found: null })
    expect(await store.findId('elsewhere', 'm-1')).toEqual({ ok: true, found: null })
  })

  it('pages frames that are exactly what live delivery sends, user and id included', async () => {
    const { store } = openStore()
    const live: RoomEventMessage = {
      type: 'message',
      room: 'team/general',
      event: 'chat',
      data: { z: 1, a: [null, '\u2028', 'é'], ' ': { nested: true }, lone: '\ud800' },
      from: 'c_bob',
      seq: 1,
      ts: 1_700_000_000_123,
      id: 'client-1',
      user: 'bob',
    }
    const anonymous: RoomEventMessage = {
      type: 'message',
      room: 'team/general',
      event: 'chat',
      data: null,
      from: 'server',
      seq: 2,
      ts: 1_700_000_000_124,
    }
    const { type: _, ...first } = live
    const { type: __, ...second } = anonymous
    expect(await store.append({ ...first, epoch: 'e_test' })).toEqual({ ok: true })
    expect(await store.append({ ...second, epoch: 'e_test' })).toEqual({ ok: true })
    const page = await store.page('team/general', { epoch: 'e_test', limit: 10 })
    expect(page).toEqual({ ok: true, frames: [encode(live), encode(anonymous)], more: false })
  })

  it('pages only the given epoch, below before, with more while older ones exist', async () => {
    const { store } = openStore()
    for (let seq = 1; seq <= 5; seq++) await store.append(stored('paged', seq))
    const seqs = (frames: string[]) => frames.map((f) => (JSON.parse(f) as RoomEventMessage).seq)
    const newest = await store.page('paged', { epoch: 'e_test', limit: 2 })
    expect(newest.ok && [seqs(newest.frames), newest.more]).toEqual([[4, 5], true])
    const middle = await store.page('paged', { epoch: 'e_test', before: 4, limit: 2 })
    expect(middle.ok && [seqs(middle.frames), middle.more]).toEqual([[2, 3], true])
    const oldest = await store.page('paged', { epoch: 'e_test', before: 2, limit: 2 })
    expect(oldest.ok && [seqs(oldest.frames), oldest.more]).toEqual([[1], false])
    expect(await store.page('paged', { epoch: 'e_other', limit: 2 })).toEqual({
      ok: true,
      frames: [],
      more: false,
    })
  })

  it('refuses a seq the room already has as a conflict, and what text cannot hold as invalid', async () => {
    const { store } = openStore()
    expect(await store.append(stored('conflict', 1))).toEqual({ ok: true })
    expect(await store.append(stored('conflict', 1, { data: 'again' }))).toMatchObject({
      ok: false,
      code: 'conflict',
    })
    expect(await store.append(stored('conflict', 2, { user: 'a\0b' }))).toMatchObject({
      ok: false,
      code: 'invalid',
      message: expect.stringContaining('user holds a NUL'),
    })
    expect(await store.append(stored('conflict', 2))).toEqual({ ok: true })
  })

  it('refuses a statement PostgreSQL refuses for its data (a NUL in a lookup) alone, staying up for the rest', async () => {
    const { store } = openStore()
    expect(await store.append(stored('nul', 1, { id: 'm1' }))).toEqual({ ok: true })
    // The lookup's own parameter, not a stored field: PostgreSQL answers 22021 for it.
    expect(await store.findId('nul', 'a\0b')).toMatchObject({ ok: false, code: 'invalid' })
    expect(store.health()).toEqual({ up: true })
    expect(await store.findId('nul', 'm1')).toEqual({ ok: true, found: { epoch: 'e_test', seq: 1 } })
    expect(await store.append(stored('nul', 2))).toEqual({ ok: true })
  })

  it('in one statement, acks the rows that went in and refuses as a conflict the ones already there', async () => {
    const { store } = openStore()
    expect(await store.append(stored('mixed', 2))).toEqual({ ok: true })
    // One turn: one statement of three rows, the middle one already stored.
    const outcomes = await Promise.all([1, 2, 3].map((seq) => store.append(stored('mixed', seq))))
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.code))).toEqual(['ok', 'conflict', 'ok'])
  })

  it('creates a schema-qualified table on first use', async () => {
    const table = 'rw_test_schema_store.messages'
    const { store } = openStore({ table })
    expect(await store.append(stored('schema', 1))).toEqual({ ok: true })
    const { rows } = await admin.query("SELECT to_regclass('rw_test_schema_store.messages') AS t")
    expect(rows[0].t).toBe('rw_test_schema_store.messages')
  })

  it('refuses a table name that is not a plain identifier before it reaches SQL', () => {
    expect(() =>
      createPostgresHistory({ connectionString: POSTGRES_URL, retention, table: 'x"; DROP TABLE y; --' }),
    ).toThrow(/must be name or schema\.name/)
    expect(() => createPostgresHistory({ retention } as never)).toThrow(
      /exactly one of connectionString and pool/,
    )
  })
})
