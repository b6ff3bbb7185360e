import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresHistory } from '../../src/postgres/index'
import { adminPool, ManualClock, POSTGRES_URL, stored, uniqueTable } from './pg-helpers'

const DAY = 86_400_000
let admin: pg.Pool
const tables: string[] = []

beforeAll(() => {
  admin = adminPool()
})

afterAll(async () => {
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

async function count(table: string): Promise<number> {
  const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${table}"`)
  return rows[0].n
}

/** Rows written straight into the table (as an older server would have left them). */
async function insertAged(table: string, room: string, seqs: number[], ts: number): Promise<void> {
  await admin.query(
    `INSERT INTO "${table}" (room, seq, epoch, event, data, sender, ts)
     SELECT $1, s, 'e_test', 'chat', '{}', 'c_x', $2 FROM unnest($3::bigint[]) AS s`,
    [room, ts, seqs],
  )
}

describe('postgres history retention', () => {
  it('removes rows past retention in bounded batches in the background, and keeps the rest', async () => {
    const clock = new ManualClock()
    const table = uniqueTable()
    tables.push(table)
    const store = createPostgresHistory({
      connectionString: POSTGRES_URL,
      table,
      clock,
      retention: { maxAgeMs: DAY, batchRows: 100, pauseMs: 10, intervalMs: 60_000 },
    })
    // A first store creates the table; rows then age in it before the one under test starts.
    const setup = createPostgresHistory({
      connectionString: POSTGRES_URL,
      table,
      retention: { maxAgeMs: 3650 * DAY },
    })
    await setup.head('x')
    await setup.close()
    const now = clock.now()
    await insertAged(table, 'old', range(1, 350), now - 2 * DAY)
    await insertAged(table, 'old', range(351, 360), now - DAY / 2)

    // The first statement creates nothing and starts the sweeper: one batch of 100 at once.
    await store.head('old')
    await expect.poll(() => count(table)).toBe(260)
    expect(store.stats().removed).toBe(100)
    // Each further batch waits for its pause: bounded work, one batch at a time.
    for (const left of [160, 60, 10]) {
      clock.advance(10)
      await expect.poll(() => count(table)).toBe(left)
    }
    // The last batch came back short: nothing more until the next interval.
    await expect.poll(() => store.stats().removed).toBe(350)
    clock.advance(10)
    expect(await count(table)).toBe(10)

    // Half a day later the rest are past retention too: a later interval's sweep takes them (each poll
    // moves the clock one interval on, so one of them starts after the sweep before it finished).
    clock.advance(DAY / 2)
    await expect
      .poll(() => {
        clock.advance(60_000)
        return count(table)
      })
      .toBe(0)
    await store.close()
  })

  it('pages nothing past retention even before the sweep removed it, and says more: false', async () => {
    const clock = new ManualClock()
    const table = uniqueTable()
    tables.push(table)
    const store = createPostgresHistory({
      connectionString: POSTGRES_URL,
      table,
      clock,
      retention: { maxAgeMs: DAY, intervalMs: 3_600_000 },
    })
    const now = clock.now()
    for (let seq = 1; seq <= 6; seq++) {
      // Three messages two hours apart, then three recent ones.
      const ts = seq <= 3 ? now - DAY + seq * 7_200_000 : now - 1000
      expect(await store.append(stored('aging', seq, { ts }))).toEqual({ ok: true })
    }
    const page = await store.page('aging', { epoch: 'e_test', limit: 10 })
    expect(page.ok && page.frames.length).toBe(6)
    // Five hours on, two of the three older ones are past retention; the sweep has not run yet.
    clock.now = () => now + 5 * 3_600_000
    const later = await store.page('aging', { epoch: 'e_test', before: 5, limit: 2 })
    expect(later.ok && [later.frames.map((f) => JSON.parse(f).seq), later.more]).toEqual([[3, 4], false])
    expect(await count(table)).toBe(6)
    await store.close()
  })
})

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
