// Plain data, passed to a server process as JSON on its command line.
/** What a scenario changes in the server under test, the same for every implementation. */
export interface ServerSettings {
  /** Negotiate permessage-deflate with clients that offer it (roomwire: `perMessageDeflate: true`). */
  compression?: boolean
  /** roomwire only: join a cluster through the Redis at 127.0.0.1:6379 under this key prefix. */
  redisPrefix?: string
  /**
   * roomwire only: keep history in PostgreSQL (`@roomwire/server/postgres`), in a table of the run's own,
   * dropped when the server closes. Where: `BENCH_POSTGRES_URL`, else the tests' `RW_TEST_POSTGRES_URL`,
   * else postgres://postgres@127.0.0.1:5432/test.
   */
  historyStore?: 'postgres'
  /**
   * roomwire only: no per-connection budget for join and page bytes (`replayBytesPerSec: 0`). The page
   * phase asks for pages as fast as they are answered, and the memory store answers faster than the
   * default 1 MiB a second allows: its runs failed with `rate_limited` on a quiet machine.
   */
  unlimitedReplay?: boolean
  /**
   * roomwire only: a protocol declaring the request scenario's `double` request, and its handler (the
   * peers answer it in their own code either way). Off elsewhere, so the other scenarios stay without one.
   */
  requests?: boolean
}

/**
 * permessage-deflate for the raw ws peer: the parameters roomwire negotiates (packages/server
 * compression.ts), so both compress the same way (no context takeover, a 2 KiB server window, messages
 * under 1 KiB sent plain).
 */
export const RAW_WS_DEFLATE = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 11,
  zlibDeflateOptions: { memLevel: 4, chunkSize: 4096 },
  zlibInflateOptions: { chunkSize: 4096 },
  threshold: 1024,
  concurrencyLimit: 10,
} as const
