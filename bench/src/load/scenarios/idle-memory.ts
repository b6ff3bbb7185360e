import { closeAll, connectMany } from '../load-connection'
import { delay, type ScenarioContext } from '../scenario-context'

/** What the server reports after a full garbage collection. */
export interface MemorySample {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  connections: number
}

/** Idle-memory parameters. */
export interface IdleMemoryParams {
  connections: number
  roomSize: number
  settleMs: number
}

/** Connections made and closed before the baseline: what a server sets up once, on first use, is not a connection's cost. */
const WARM_UP = 100

/**
 * The server's memory per idle connection: a warm-up (connections joined the same way, then closed), a
 * baseline after GC, then `connections` connected and joined (rooms of `roomSize`), left idle, measured
 * again after GC. Deltas are divided by the connection count.
 *
 * Without the warm-up the baseline was the process before it had served anyone, so whatever a server
 * builds lazily at its first connection, join or frame (compiled schemas, a metric's series, JIT code)
 * counted as a per-connection cost: about 600 B a connection in 10,000 for roomwire after issue 14, whose
 * absolute figures after 10,000 connections were lower than the earlier server's while its deltas were
 * higher.
 */
export async function runIdleMemory(ctx: ScenarioContext, p: IdleMemoryParams) {
  const warm = Math.min(WARM_UP, p.connections)
  const warmRooms = Math.ceil(warm / p.roomSize)
  closeAll(await connectMany(ctx.connect, ctx.port, warm, (i) => `warm-${i % warmRooms}`, 100))
  for (let i = 0; i < 100; i++) {
    if ((await ctx.control<MemorySample>('memory')).connections === 0) break
    await delay(50)
  }
  await delay(p.settleMs)
  const base = await ctx.control<MemorySample>('memory')
  if (base.connections !== 0) throw new Error(`${base.connections} warm-up connections still open after 5 s`)
  const rooms = Math.ceil(p.connections / p.roomSize)
  const conns = await connectMany(ctx.connect, ctx.port, p.connections, (i) => `idle-${i % rooms}`, 500)
  await delay(p.settleMs)
  const after = await ctx.control<MemorySample>('memory')
  closeAll(conns)
  const n = p.connections
  return {
    rssAfter: after.rss,
    rssPerConnection: (after.rss - base.rss) / n,
    heapPerConnection: (after.heapUsed - base.heapUsed) / n,
    externalPerConnection: (after.external - base.external) / n,
    serverConnections: after.connections,
  }
}
