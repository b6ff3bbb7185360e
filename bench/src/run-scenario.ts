import { randomBytes } from 'node:crypto'
import { type BenchChild, type CodeSource, spawnChild, withTimeout } from './harness/child-process'
import type { LoadTask, ScenarioName } from './load/loadgen-child'
import type { Implementation } from './servers/bench-server'
import type { ServerSettings } from './servers/server-settings'

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
  /** Server processes sharing one Redis under a fresh key prefix (roomwire's cluster adapter). */
  servers?: number
  /** What the scenario changes in every server process (compression). */
  serverSettings?: ServerSettings
}

const SERVER_CORE = 0
const LOAD_CORE = 1

function startServer(req: RunRequest, cluster?: string): BenchChild {
  const settings: ServerSettings = {
    ...req.serverSettings,
    ...(cluster === undefined ? {} : { redisPrefix: cluster }),
  }
  return spawnChild({
    entry: 'servers/server-child.ts',
    args: [req.serverImpl, JSON.stringify(settings)],
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
  // A cluster: the first process is `server`, the others its peers through Redis.
  const cluster = req.servers === undefined ? undefined : `roomwire-bench:${randomBytes(6).toString('hex')}:`
  let server = startServer(req, cluster)
  const peers = Array.from({ length: Math.max(0, (req.servers ?? 1) - 1) }, () => startServer(req, cluster))
  let standby = req.standby ? startServer(req) : undefined
  let port = 0
  const children = new Set<BenchChild>([server, ...peers, ...(standby ? [standby] : [])])
  const load = spawnChild({
    entry: 'load/loadgen-child.ts',
    codeSource: req.codeSource,
    ...(req.pin ? { core: LOAD_CORE } : {}),
    // What the load generator asks of the server process goes through here.
    handler: async (cmd, args) => {
      if (cmd === 'cpu' && peers.length > 0) return clusterCpu([server, ...peers])
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
    const ports = [port]
    for (const peer of peers) {
      ports.push(await withTimeout(peer.rpc.request<number>('listen', { port: 0 }), 10_000, 'listen'))
    }
    const task: LoadTask = { scenario: req.scenario, impl: req.impl, port, ports, params: req.params }
    return await withTimeout(
      load.rpc.request<Record<string, number>>('run', task),
      req.timeoutMs,
      `${req.scenario} on ${req.impl}`,
    )
  } finally {
    await load.kill()
    // A clean stop lets --cpu-prof write its profile; a server that hangs is killed.
    await Promise.all(
      [server, ...peers].map((child) =>
        withTimeout(child.rpc.request('stop'), 5_000, 'stop')
          .then(() => withTimeout(child.exited, 5_000, 'exit'))
          .catch(() => {}),
      ),
    )
    await Promise.all([...children].map((c) => c.kill()))
  }
}

/** The CPU time of several server processes added up, as one sample (so a share can exceed one core). */
async function clusterCpu(servers: BenchChild[]): Promise<{ user: number; system: number; at: number }> {
  const samples = await Promise.all(
    servers.map((s) => s.rpc.request<{ user: number; system: number; at: number }>('cpu')),
  )
  return {
    user: samples.reduce((sum, x) => sum + x.user, 0),
    system: samples.reduce((sum, x) => sum + x.system, 0),
    at: samples[0]!.at,
  }
}
