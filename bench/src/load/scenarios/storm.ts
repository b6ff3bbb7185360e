import type { LoadConnection } from '../load-connection'
import type { ScenarioContext } from '../scenario-context'

/** Connection-storm parameters. */
export interface StormParams {
  connections: number
  roomSize: number
  timeoutMs: number
}

/**
 * `connections` clients connect and join at the same instant (no pacing at all); the time until the
 * last one has its join confirmed. Rooms of `roomSize` keep presence traffic out of the figure.
 */
export async function runStorm(ctx: ScenarioContext, p: StormParams) {
  const rooms = Math.ceil(p.connections / p.roomSize)
  const t0 = performance.now()
  const conns: LoadConnection[] = []
  let failed = 0
  const joins = Array.from({ length: p.connections }, async (_, i) => {
    try {
      const conn = await ctx.connect(ctx.port)
      conns.push(conn)
      await conn.join(`storm-${i % rooms}`)
      return performance.now() - t0
    } catch {
      failed++
      return Number.NaN
    }
  })
  let timer: NodeJS.Timeout | undefined
  const times = await Promise.race([
    Promise.all(joins),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`storm: not all joined in ${p.timeoutMs} ms`)), p.timeoutMs)
    }),
  ]).finally(() => clearTimeout(timer))
  const ok = times.filter((t) => Number.isFinite(t)).sort((a, b) => a - b)
  for (const c of conns) c.close()
  return {
    allJoinedMs: ok.length > 0 ? ok[ok.length - 1]! : Number.NaN,
    medianJoinMs: ok.length > 0 ? ok[ok.length >> 1]! : Number.NaN,
    failed,
  }
}
