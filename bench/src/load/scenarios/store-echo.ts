import { Histogram } from '../../harness/histogram'
import { closeAll, connectMany, type LoadConnection } from '../load-connection'
import { delay, type ScenarioContext, withCpu } from '../scenario-context'
import { measureEcho } from './echo'

/** Parameters of the history store scenario. */
export interface StoreEchoParams {
  clients: number
  durationMs: number
  /** Clients asking for pages at once, one page after another each, after the echo phase. */
  pageClients: number
  /** Messages per page. */
  pageLimit: number
}

/**
 * The echo scenario on a server with a history store, then the cost of scrolling back: `pageClients` of
 * the same connections ask for the newest `pageLimit` messages of their room (which the echo phase filled),
 * one `history` request after another, for `durationMs`.
 */
export async function runStoreEcho(ctx: ScenarioContext, p: StoreEchoParams) {
  const conns = await connectMany(ctx.connect, ctx.port, p.clients, (i) => `echo-${i}`)
  const echo = await measureEcho(ctx, conns, p.durationMs)
  const pages = await measurePages(ctx, conns.slice(0, p.pageClients), p.pageLimit, p.durationMs)
  closeAll(conns)
  return { ...echo, ...pages }
}

async function measurePages(
  ctx: ScenarioContext,
  conns: LoadConnection[],
  limit: number,
  durationMs: number,
) {
  const hist = new Histogram()
  let running = true
  let count = 0
  let messages = 0
  const loops = conns.map(async (conn, i) => {
    if (conn.history === undefined) throw new Error(`${ctx.impl}'s load connection cannot ask for history`)
    while (running) {
      const t = performance.now()
      messages += await conn.history(`echo-${i}`, limit)
      hist.record((performance.now() - t) * 1000)
      count++
    }
  })
  const t0 = performance.now()
  const cpu = await withCpu(ctx, () => delay(durationMs))
  const elapsed = performance.now() - t0
  running = false
  await Promise.all(loops)
  return {
    pagesPerSec: (count * 1000) / elapsed,
    pageP50Us: hist.percentile(0.5),
    pageP99Us: hist.percentile(0.99),
    // Pages counted after the CPU window closed add a little; the same for every store.
    serverUsPerPage: (cpu.serverCpu * 1e6 * elapsed) / 1000 / count,
    messagesPerPage: messages / count,
  }
}
