import { type BenchChild, type CodeSource, spawnChild, withTimeout } from './harness/child-process'
import type { LoadTask, ScenarioName } from './load/loadgen-child'
import type { Implementation } from './servers/bench-server'

/** One run of one scenario against one implementation. */
export interface RunRequest {
  scenario: ScenarioName
  impl: Implementation
  /** The server process to start; the implementation itself unless the scenario says otherwise. */
  serverImpl: Implementation
  params: unknown
  /** Start a second server process waiting to take over the port (for the restart scenario). */
  standby: boolean
  timeoutMs: number
  codeSource: CodeSource
  /** Pin the server to core 0 and the load generator to core 1. */
  pin: boolean
  /** Node flags for the server process, such as `--cpu-prof`. */
  serverFlags?: string[]
}

const SERVER_CORE = 0
const LOAD_CORE = 1

function startServer(req: RunRequest): BenchChild {
  return spawnChild({
    entry: 'servers/server-child.ts',
    args: [req.serverImpl],
    codeSource: req.codeSource,
    nodeFlags: req.serverFlags ?? [],
    ...(req.pin ? { core: SERVER_CORE } : {}),
  })
}

/**
 * Start a fresh server process and a fresh load-generator process, run the scenario, and stop both,
 * whatever happens. Every wait is bounded by `timeoutMs`.
 */
export async function runScenario(req: RunRequest): Promise<Record<string, number>> {
  let server = startServer(req)
  let standby = req.standby ? startServer(req) : undefined
  let port = 0
  const children = new Set<BenchChild>([server, ...(standby ? [standby] : [])])
  const load = spawnChild({
    entry: 'load/loadgen-child.ts',
    codeSource: req.codeSource,
    ...(req.pin ? { core: LOAD_CORE } : {}),
    // What the load generator asks of the server process goes through here.
    handler: async (cmd, args) => {
      if (cmd !== 'restart') return server.rpc.request(cmd, args)
      if (!standby) throw new Error('restart needs a standby server')
      // A crash, not a shutdown: every client sees its socket drop at the same instant (1006), and
      // the next server takes the port at once, so the spread is the clients' backoff alone.
      await server.kill('SIGKILL')
      server = standby
      standby = undefined
      await server.rpc.request('listen', { port })
      return null
    },
  })
  children.add(load)
  try {
    await withTimeout(Promise.all([...children].map((c) => c.ready)), 30_000, 'starting processes')
    port = await withTimeout(server.rpc.request<number>('listen', { port: 0 }), 10_000, 'listen')
    const task: LoadTask = { scenario: req.scenario, impl: req.impl, port, params: req.params }
    return await withTimeout(
      load.rpc.request<Record<string, number>>('run', task),
      req.timeoutMs,
      `${req.scenario} on ${req.impl}`,
    )
  } finally {
    await load.kill()
    // A clean stop lets --cpu-prof write its profile; a server that hangs is killed.
    await withTimeout(server.rpc.request('stop'), 5_000, 'stop')
      .then(() => withTimeout(server.exited, 5_000, 'exit'))
      .catch(() => {})
    await Promise.all([...children].map((c) => c.kill()))
  }
}
