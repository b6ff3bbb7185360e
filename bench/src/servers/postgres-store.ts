import { randomBytes } from 'node:crypto'
import type { HistoryStore } from '@roomwire/server'
import pg from 'pg'

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** A Postgres history store in a table of its own, and how to drop that table once the server closed. */
export interface BenchPostgresStore {
  store: HistoryStore
  dropTable(): Promise<void>
}

/**
 * `createPostgresHistory` from the working tree (or from the server copy at `serverIndex`, whose
 * `postgres/index.ts` sits beside its `index.ts`) on a fresh table, with the store's defaults otherwise.
 */
export async function benchPostgresStore(serverIndex: string | undefined): Promise<BenchPostgresStore> {
  const module = (
    serverIndex === undefined
      ? await import('@roomwire/server/postgres')
      : await import(serverIndex.replace(/index\.ts$/, 'postgres/index.ts'))
  ) as typeof import('@roomwire/server/postgres')
  const url = process.env.BENCH_POSTGRES_URL || process.env.RW_TEST_POSTGRES_URL || DEFAULT_URL
  const table = `rw_bench_${randomBytes(6).toString('hex')}`
  const store = module.createPostgresHistory({
    connectionString: url,
    retention: { maxAgeMs: 86_400_000 },
    table,
  })
  return {
    store,
    async dropTable() {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(`DROP TABLE IF EXISTS "${table}"`)
      } finally {
        await client.end()
      }
    },
  }
}
