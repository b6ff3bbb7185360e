import type { RoomServer } from '@roomwire/server'
import * as roomwire from '@roomwire/server'
import type { BenchServer } from './bench-server'
import { ROOMWIRE_BENCH_OPTIONS } from './roomwire-options'

// BENCH_ROOMWIRE_MODULE: another copy of the server's source (say, a previous commit's, extracted with
// `git archive`), to measure a change before and after on the same harness and machine.
const alternative = process.env.BENCH_ROOMWIRE_MODULE
const { createRoomServer } = (
  alternative ? await import(alternative) : roomwire
) as typeof import('@roomwire/server')

/** roomwire's `createRoomServer` behind the harness's server shape. */
export function createRoomwireBenchServer(): BenchServer {
  let server: RoomServer | undefined
  return {
    async listen(port) {
      server = createRoomServer({ ...ROOMWIRE_BENCH_OPTIONS, port, host: '127.0.0.1' })
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
      await server?.close({ timeoutMs: 1000 })
    },
  }
}
