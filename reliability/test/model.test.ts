import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelSeconds, report, seedFrom, stopStartingAfter } from './support/budget'
import { Cluster, type ClusterConfig, Run } from './support/delivery-cluster'
import { commandArbitraries } from './support/delivery-commands'
import { type Finding, judge, timeline } from './support/delivery-judge'

/**
 * The judge of issue 13: random sequences of publishes, joins, leaves, late subscribers and faults run
 * against real server processes and real SDK clients on loopback, then the whole trace is checked
 * against the model of the guarantee in support/delivery-judge.ts. Budget: ROOMWIRE_MODEL_SECONDS
 * (default 45 s over both properties, so the whole reliability project stays well under 4 minutes on 2
 * cores; 60 or more gives the minute issue 13 asks for); replay a failure with ROOMWIRE_MODEL_SEED (and
 * ROOMWIRE_FC_PATH).
 */
const totalSeconds = modelSeconds(45)
/** ROOMWIRE_MODEL_WITHOUT=restartNode,freezeNode leaves those commands out (to look past a known bug). */
const without = (process.env.ROOMWIRE_MODEL_WITHOUT ?? '').split(',').filter((name) => name !== '')

function describeFindings(findings: Finding[]): string {
  return findings
    .map((f) => `  [${f.rule}]${f.client === undefined ? '' : ` client #${f.client}:`} ${f.detail}`)
    .join('\n')
}

async function checkModel(cluster: Cluster, label: string, seconds: number): Promise<void> {
  const { seed, path } = seedFrom('ROOMWIRE_MODEL_SEED')
  const deadline = performance.now() + seconds * 1000
  const totals = { runs: 0, commands: 0, publishes: 0, delivered: 0, resyncs: 0, connections: 0, losses: 0 }
  report(`model: ${label}: start`, { seed, seconds, without })
  let failure: unknown
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commandArbitraries(cluster.config, without), { maxCommands: 12 }),
        async (commands) => {
          totals.runs++
          const run = await Run.start(cluster, `model-${totals.runs}-${seed & 0xffff}`)
          try {
            await fc.asyncModelRun(() => ({ model: run.model(), real: run }), commands)
            const findings = [...(await run.quiesce()), ...judge(run.trace())]
            const stats = run.stats()
            totals.commands += [...commands].length
            totals.publishes += stats.publishes
            totals.delivered += stats.delivered
            totals.resyncs += stats.resyncs
            totals.connections += stats.connections
            totals.losses += run.losses.length
            if (findings.length > 0) {
              const involved = [
                ...new Set(findings.flatMap((f) => (f.client === undefined ? [] : [f.client]))),
              ]
              throw new Error(
                `the delivery guarantee broke (${label}, room ${run.room}):\n${describeFindings(findings)}\n` +
                  timeline(run.trace(), involved.length > 0 ? involved : run.clients.map((c) => c.index)),
              )
            }
          } finally {
            await run.dispose()
          }
        },
      ),
      {
        seed,
        ...(path === undefined ? {} : { path }),
        numRuns: Number.MAX_SAFE_INTEGER,
        plugins: [stopStartingAfter(deadline)],
      },
    )
  } catch (err) {
    failure = err
  }
  report(`model: ${label}`, { seed, seconds, ...totals, failed: failure !== undefined })
  if (failure !== undefined) throw failure
  expect(totals.runs).toBeGreaterThan(0)
}

function cluster(config: ClusterConfig) {
  const state: { cluster?: Cluster } = {}
  beforeAll(async () => {
    state.cluster = await Cluster.start(config)
  }, 60_000)
  afterAll(async () => {
    await state.cluster?.close()
  }, 30_000)
  return state
}

// A property may start its last run just before its deadline; a run with every wait timing out takes
// about 50 s, shrinking included, so the test's own timeout leaves room for that.
const slack = 120_000

describe('the delivery judge: one server process, memory adapter', () => {
  // A small history, so that clients back late also meet recovered: false and resync.
  const state = cluster({ adapter: 'memory', nodes: 1, historySize: 8, maxClients: 4 })
  const seconds = totalSeconds * 0.3
  it(
    'delivers every acked message to every member that stays joined once and in seq order, or tells it to resync only when the server really lost it',
    async () => {
      await checkModel(state.cluster!, 'memory', seconds)
    },
    seconds * 1000 + slack,
  )
})

describe('the delivery judge: one server process, memory adapter with a state file', () => {
  // SIGTERM keeps the room (same epoch, recovered: true, no resync); SIGKILL after a restore starts anew.
  const state = cluster({ adapter: 'memory', nodes: 1, historySize: 8, maxClients: 4, stateFile: true })
  const seconds = totalSeconds * 0.2
  it(
    'delivers every acked message to every member that stays joined once and in seq order across graceful restarts in the same epoch, or tells it to resync only when a crash or the history really lost it',
    async () => {
      await checkModel(state.cluster!, 'memory with a state file', seconds)
    },
    seconds * 1000 + slack,
  )
})

describe('the delivery judge: two server processes, Redis adapter', () => {
  // A history longer than any run (at most 12 publishes of 10): every reset must then carry seq 0.
  const state = cluster({ adapter: 'redis', nodes: 2, historySize: 200, maxClients: 4 })
  const seconds = totalSeconds * 0.5
  it(
    'delivers every acked message to every member that stays joined once and in seq order across nodes, Redis restarts, stalls and SIGTERM, or tells it to resync only when Redis really lost it',
    async () => {
      await checkModel(state.cluster!, 'redis', seconds)
    },
    seconds * 1000 + slack,
  )
})
