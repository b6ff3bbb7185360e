import type { RoomServer } from '@roomwire/server'
import * as roomwire from '@roomwire/server'
import type { BenchServer } from './bench-server'
import { type BenchPostgresStore, benchPostgresStore } from './postgres-store'
import { ROOMWIRE_BENCH_OPTIONS } from './roomwire-options'
import { BENCH_HANDLERS, BENCH_PROTOCOL } from './roomwire-protocol'
import type { ServerSettings } from './server-settings'

// BENCH_ROOMWIRE_MODULE: another copy of the server's source (say, a previous commit's, extracted with
// `git archive`), to measure a change before and after on the same harness and machine. `--before`
// (BENCH_ROOMWIRE_BEFORE) runs such a copy as its own implementation, beside the working tree's.
async function serverModule(path: string | undefined): Promise<typeof import('@roomwire/server')> {
  const alternative = path ?? process.env.BENCH_ROOMWIRE_MODULE
  return (alternative ? await import(alternative) : roomwire) as typeof import('@roomwire/server')
}

/** roomwire's `createRoomServer` behind the harness's server shape; with `redisPrefix`, one cluster node. */
export function createRoomwireBenchServer(options: ServerSettings = {}, modulePath?: string): BenchServer {
  let server: RoomServer | undefined
  let postgres: BenchPostgresStore | undefined
  return {
    async listen(port) {
      const { createRoomServer } = await serverModule(modulePath)
      const cluster =
        options.redisPrefix === undefined
          ? {}
          : {
              adapter: (await import('@roomwire/server/redis')).createRedisAdapter({
                url: 'redis://127.0.0.1:6379',
                keyPrefix: options.redisPrefix,
              }),
              // The run's keys expire soon after it (each run has its own prefix).
              idleTimeoutMs: 10_000,
            }
      if (options.historyStore === 'postgres') {
        postgres = await benchPostgresStore(modulePath ?? process.env.BENCH_ROOMWIRE_MODULE)
      }
      server = createRoomServer({
        ...ROOMWIRE_BENCH_OPTIONS,
        ...cluster,
        ...(postgres === undefined ? {} : { historyStore: postgres.store }),
        ...(options.unlimitedReplay === true ? { replayBytesPerSec: 0 } : {}),
        ...(options.compression === true ? { perMessageDeflate: true } : {}),
        ...(options.requests === true ? { protocol: BENCH_PROTOCOL, handlers: BENCH_HANDLERS } : {}),
        ...(process.env.BENCH_BACKLOG ? { backlog: Number(process.env.BENCH_BACKLOG) } : {}),
        port,
        host: '127.0.0.1',
      })
      await server.ready
      const address = server.address()
      if (!address) throw new Error('roomwire server has no address after ready')
      return address.port
    },
    async blast(room, count) {
      if (!server) throw new Error('not listening')
      for (let i = 0; i < count; i++) await server.broadcast(room, 'tick', { t: performance.now(), i })
    },
    connectionCount: () => server?.connections().length ?? 0,
    async close() {
      // The server closes its history store; the table goes after it.
      await server?.close({ timeoutMs: 1000 })
      await postgres?.dropTable()
    },
  }
}
