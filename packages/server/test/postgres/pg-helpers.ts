import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { testEnv } from '../../../../scripts/test-env'
import type { Clock } from '../../src/clock'
import type { StoredMessage } from '../../src/postgres/index'

/** The PostgreSQL every store test uses (the test run's global setup provides it), each in its own table. */
export const POSTGRES_URL = testEnv('RW_TEST_POSTGRES_URL')

/** A table name of its own for one test file or test. */
export function uniqueTable(): string {
  return `rw_test_${randomBytes(6).toString('hex')}`
}

/** A pool of the test's own, to look at or break what a store did; `end()` it when done. */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 })
  pool.on('error', () => {})
  return pool
}

/** The connection string, with an application name that marks the store's own connections. */
export function urlNamed(applicationName: string): string {
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('application_name', applicationName)
  return url.toString()
}

/** Kill every backend of `applicationName`; returns how many there were. Needs no root, only the superuser. */
export async function terminate(admin: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await admin.query(
    'SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  )
  return rows.length
}

/** How many backends `applicationName` has open. */
export async function backends(admin: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await admin.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  )
  return rows[0].n
}

/** The seqs stored for `room` in `table`, ascending. */
export async function storedSeqs(admin: pg.Pool, table: string, room: string): Promise<number[]> {
  const { rows } = await admin.query(`SELECT seq FROM "${table}" WHERE room = $1 ORDER BY seq`, [room])
  return rows.map((r: { seq: string }) => Number(r.seq))
}

/** A message for room `room` at `seq`, with a payload that says which it is. */
export function stored(room: string, seq: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    room,
    epoch: 'e_test',
    seq,
    event: 'chat',
    data: { text: `message ${seq}`, n: seq },
    from: 'c_alice',
    ts: 1_700_000_000_000 + seq,
    ...extra,
  }
}

interface Timer {
  at: number
  every: number | undefined
  run: () => void
}

/** A {@link Clock} the test moves by hand: timers fire only inside `advance`. */
export class ManualClock implements Clock {
  #now: number
  #timers = new Map<number, Timer>()
  #next = 1

  constructor(start = 1_800_000_000_000) {
    this.#now = start
  }

  now = (): number => this.#now

  setTimeout = (run: () => void, ms: number): number => this.#add(run, ms, undefined)
  setInterval = (run: () => void, ms: number): number => this.#add(run, ms, ms)
  clearTimeout = (handle: unknown): void => void this.#timers.delete(handle as number)
  clearInterval = (handle: unknown): void => void this.#timers.delete(handle as number)

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.size
  }

  /** Move time on by `ms`, firing every timer that falls due, in time order. */
  advance(ms: number): void {
    const until = this.#now + ms
    for (;;) {
      let due: [number, Timer] | undefined
      for (const entry of this.#timers)
        if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry
      if (due === undefined) break
      const [handle, timer] = due
      this.#now = Math.max(this.#now, timer.at)
      if (timer.every === undefined) this.#timers.delete(handle)
      else timer.at += timer.every
      timer.run()
    }
    this.#now = until
  }

  #add(run: () => void, ms: number, every: number | undefined): number {
    const handle = this.#next++
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), every, run })
    return handle
  }
}
