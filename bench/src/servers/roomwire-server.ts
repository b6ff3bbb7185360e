import { createRoomServer, type RoomServer, type RoomServerOptions } from '@roomwire/server'
import type { BenchServer } from './bench-server'

/**
 * What the benchmark changes from roomwire's defaults, and only this: limits that exist to protect a
 * public server from one abusive client would otherwise refuse the load itself. Everything else
 * (history of 100 per room, presence, heartbeat, the 1 MiB slow-consumer cap, validation) stays on.
 */
export const ROOMWIRE_BENCH_OPTIONS = {
  // One room of 5,000 members plus the publisher (default 1,000).
  maxMembersPerRoom: 10_000,
  // 10,000 connections plus the harness's own (default 10,000).
  maxConnections: 20_000,
  // The fan-out publisher sends thousands of messages per second (default 100/s, burst 200).
  rateLimitPerSec: 0,
  // A stopping server process need not spread its closes over a second.
  shutdownSpreadMs: 0,
  logLevel: 'silent',
} satisfies RoomServerOptions

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
