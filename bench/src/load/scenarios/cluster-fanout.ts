import type { ScenarioContext } from '../scenario-context'
import { type FanoutParams, runFanout } from './fanout'

/**
 * The fan-out scenario across several server processes sharing Redis: connections go to the servers in
 * turn (member i to server i mod n), so the members are spread evenly and the publisher, connected last,
 * lands on one of them. Throughput and latency are measured exactly as in the single-process fan-out.
 */
export async function runClusterFanout(ctx: ScenarioContext, p: FanoutParams) {
  if (ctx.ports.length < 2) throw new Error('the cluster fan-out needs at least two server processes')
  let next = 0
  const spread: ScenarioContext = {
    ...ctx,
    connect: () => ctx.connect(ctx.ports[next++ % ctx.ports.length]!),
  }
  return runFanout(spread, p)
}
