import { serveParent } from '../harness/child-process'
import type { Implementation } from '../servers/bench-server'
import { connectorFor, type ScenarioContext } from './scenario-context'
import { runBigRoom } from './scenarios/big-room'
import { runClientReceive } from './scenarios/client-receive'
import { runClusterFanout } from './scenarios/cluster-fanout'
import { runDeflateStorm } from './scenarios/deflate-storm'
import { runEcho } from './scenarios/echo'
import { runFanout } from './scenarios/fanout'
import { runIdleMemory } from './scenarios/idle-memory'
import { runManyRooms } from './scenarios/many-rooms'
import { runReconnect } from './scenarios/reconnect'
import { runRequest } from './scenarios/request'
import { runStoreEcho } from './scenarios/store-echo'
import { runStorm } from './scenarios/storm'

/** A scenario run as the harness asks for it. */
export interface LoadTask {
  scenario: ScenarioName
  impl: Implementation
  port: number
  /** Every server's port, for a scenario run on several server processes. */
  ports?: number[]
  params: unknown
}

const scenarios = {
  fanout: runFanout,
  clusterFanout: runClusterFanout,
  echo: runEcho,
  storeEcho: runStoreEcho,
  request: runRequest,
  manyRooms: runManyRooms,
  idleMemory: runIdleMemory,
  storm: runStorm,
  reconnect: runReconnect,
  client: runClientReceive,
  deflateStorm: runDeflateStorm,
  bigRoom: runBigRoom,
} as const

/** The scenarios the load generator can run. */
export type ScenarioName = keyof typeof scenarios

// The load generator: one process, pinned to its own core, running one scenario per request.
const rpc = serveParent(async (cmd, args) => {
  if (cmd !== 'run') throw new Error(`unknown command '${cmd}'`)
  const task = args as LoadTask
  const ctx: ScenarioContext = {
    impl: task.impl,
    port: task.port,
    ports: task.ports ?? [task.port],
    connect: connectorFor(task.impl),
    control: (c, a) => rpc.request(c, a),
  }
  const run = scenarios[task.scenario] as (ctx: ScenarioContext, params: unknown) => Promise<unknown>
  return run(ctx, task.params)
})
