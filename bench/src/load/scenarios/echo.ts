import { Histogram } from '../../harness/histogram'
import { closeAll, connectMany, type LoadConnection, PAYLOAD_TEXT } from '../load-connection'
import { delay, type ScenarioContext, withCpu } from '../scenario-context'

/** Echo parameters. */
export interface EchoParams {
  clients: number
  durationMs: number
}

/**
 * `clients` connections, each alone in its own room, each doing request/reply round trips one after
 * another: publish with a `ref` and wait for the `ack` (Socket.IO: `emitWithAck`).
 */
export async function runEcho(ctx: ScenarioContext, p: EchoParams) {
  const conns = await connectMany(ctx.connect, ctx.port, p.clients, (i) => `echo-${i}`)
  const figures = await measureEcho(ctx, conns, p.durationMs)
  closeAll(conns)
  return figures
}

/** The echo round trips of `conns`, each in room `echo-<index>`, measured for `durationMs` after a warm-up. */
export async function measureEcho(ctx: ScenarioContext, conns: LoadConnection[], durationMs: number) {
  const hist = new Histogram()
  let measuring = false
  let running = true
  let count = 0
  const loops = conns.map(async (conn, i) => {
    let n = 0
    while (running) {
      const t = performance.now()
      await conn.request(`echo-${i}`, { t, i: n++, text: PAYLOAD_TEXT })
      if (measuring) {
        hist.record((performance.now() - t) * 1000)
        count++
      }
    }
  })
  await delay(Math.min(500, durationMs / 2))
  measuring = true
  const t0 = performance.now()
  const cpu = await withCpu(ctx, () => delay(durationMs))
  const elapsed = performance.now() - t0
  measuring = false
  running = false
  await Promise.all(loops)
  return {
    roundTripsPerSec: (count * 1000) / elapsed,
    p50Us: hist.percentile(0.5),
    p99Us: hist.percentile(0.99),
    serverCpu: cpu.serverCpu,
    loadCpu: cpu.loadCpu,
    // Server CPU time per round trip: steadier than the rate when the two cores are shared.
    serverUsPerRoundTrip: (cpu.serverCpu * 1e6 * elapsed) / 1000 / count,
  }
}
