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

/**
 * The server's memory per idle connection: a baseline after GC, then `connections` connected and joined
 * (rooms of `roomSize`), left idle, measured again after GC. Deltas are divided by the connection count.
 */
export async function runIdleMemory(ctx: ScenarioContext, p: IdleMemoryParams) {
  const base = await ctx.control<MemorySample>('memory')
  const rooms = Math.ceil(p.connections / p.roomSize)
  const conns = await connectMany(ctx.connect, ctx.port, p.connections, (i) => `idle-${i % rooms}`, 500)
  await delay(p.settleMs)
  const after = await ctx.control<MemorySample>('memory')
  closeAll(conns)
  const n = p.connections
  return {
    rssPerConnection: (after.rss - base.rss) / n,
    heapPerConnection: (after.heapUsed - base.heapUsed) / n,
    externalPerConnection: (after.external - base.external) / n,
    serverConnections: after.connections,
  }
}
