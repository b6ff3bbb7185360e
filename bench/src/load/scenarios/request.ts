import { Histogram } from '../../harness/histogram'
import { closeAll, connectMany } from '../load-connection'
import { delay, type ScenarioContext, withCpu } from '../scenario-context'

/** Request parameters. */
export interface RequestParams {
  clients: number
  durationMs: number
}

/**
 * `clients` connections, in no room, each calling the server's `double` request with `{ n }` and awaiting
 * its reply, one call after another (roomwire: a typed request to a trivial handler; raw ws and uWS: the
 * same JSON frame answered by hand; Socket.IO: `emitWithAck`). Every reply is checked.
 */
export async function runRequest(ctx: ScenarioContext, p: RequestParams) {
  const conns = await connectMany(ctx.connect, ctx.port, p.clients, () => undefined)
  const hist = new Histogram()
  let measuring = false
  let running = true
  let count = 0
  let wrong = 0
  const loops = conns.map(async (conn) => {
    let n = 0
    while (running) {
      const t = performance.now()
      const sent = n++
      if ((await conn.call(sent)) !== sent * 2) wrong++
      if (measuring) {
        hist.record((performance.now() - t) * 1000)
        count++
      }
    }
  })
  await delay(Math.min(500, p.durationMs / 2))
  measuring = true
  const t0 = performance.now()
  const cpu = await withCpu(ctx, () => delay(p.durationMs))
  const elapsed = performance.now() - t0
  measuring = false
  running = false
  await Promise.all(loops)
  closeAll(conns)
  if (wrong > 0) throw new Error(`${wrong} replies carried the wrong output`)
  return {
    roundTripsPerSec: (count * 1000) / elapsed,
    p50Us: hist.percentile(0.5),
    p99Us: hist.percentile(0.99),
    serverCpu: cpu.serverCpu,
    loadCpu: cpu.loadCpu,
    serverUsPerRoundTrip: (cpu.serverCpu * 1e6 * elapsed) / 1000 / count,
  }
}
