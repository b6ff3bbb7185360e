import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { writeReport } from './report/write-report'
import type { Implementation } from './servers/bench-server'
import { buildSuite, RUNS, type Size } from './suite'
import { ratioLines, runSuite, unavailableImplementations } from './suite-runner'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    impl: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
    'no-report': { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
    before: { type: 'string' },
    main: { type: 'string' },
    render: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  console.log(`pnpm bench [-- options]
  --quick        smaller sizes and shorter phases (about 3 minutes)
  --runs N       runs per figure (default 3; the report gives the median)
  --only a,b     only scenarios whose id starts with one of these (fanout, echo, many-rooms, ...)
  --impl a,b     only these implementations (ws, socketio, roomwire)
  --profile      run roomwire's server with --cpu-prof (profiles in bench/results/profiles)
  --heap-snapshot  write a heap snapshot at each memory reading (bench/results/profiles); diff two
                 with node bench/tools/heap-diff.mjs before after [per-unit] [rows]
  --no-report    print results only (saved as bench/results/partial.json); leave docs/BENCHMARKS.md alone
  --source       load workspace packages from src/ (no build needed)
  --before PATH  also run another copy of the server (PATH: its packages/server/src/index.ts, for
                 example a git worktree of an earlier commit) as "roomwire before", in the same run
  --main PATH    likewise a third copy as "roomwire main" (say, main without this branch's changes)
  --render       rewrite the report from bench/results/latest.json without measuring`)
  process.exit(0)
}

const size: Size = values.quick ? 'quick' : 'full'
const only = values.only?.split(',')
const impls = values.impl?.split(',') as Implementation[] | undefined
const before = values.before === undefined ? undefined : resolve(values.before)
const mainCopy = values.main === undefined ? undefined : resolve(values.main)
// Inherited by the server processes (see servers/server-child.ts).
if (before) process.env.BENCH_ROOMWIRE_BEFORE = before
if (mainCopy) process.env.BENCH_ROOMWIRE_MAIN = mainCopy
// The other server copies run where only the server differs and which issue 14 names (reconnect and
// client measure the SDK; the issue 20 scenarios were measured before the fixes separately, NOTES.md).
const BEFORE_SCENARIOS = new Set([
  'fanout',
  'echo',
  'storeEcho',
  'request',
  'manyRooms',
  'idleMemory',
  'storm',
  'deflateStorm',
])
const skipped = unavailableImplementations()
for (const [impl, why] of Object.entries(skipped)) console.error(`skipping ${impl}: ${why}`)
const specs = buildSuite(size)
  .filter((s) => !only || only.some((o) => s.id.startsWith(o)))
  .map((s) => (impls ? { ...s, impls: s.impls.filter((i) => impls.includes(i)) } : s))
  .map((s) => ({ ...s, impls: s.impls.filter((i) => !(i in skipped)) }))
  .map((s) => withCopy(s, 'roomwire-main', mainCopy))
  .map((s) => withCopy(s, 'roomwire-before', before))

/** Run another copy of the server beside roomwire in a scenario where only the server differs. */
function withCopy<S extends { impls: readonly Implementation[]; scenario: string }>(
  s: S,
  impl: Implementation,
  path: string | undefined,
): S {
  if (path === undefined || !s.impls.includes('roomwire') || !BEFORE_SCENARIOS.has(s.scenario)) return s
  return { ...s, impls: [...s.impls, impl] }
}
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url))
const profileDir = `${resultsDir}profiles`
if (values.profile || values['heap-snapshot']) mkdirSync(profileDir, { recursive: true })
// Inherited by the server processes (see servers/server-child.ts).
if (values['heap-snapshot']) process.env.BENCH_HEAP_SNAPSHOT_DIR = profileDir

if (values.render) {
  const saved = JSON.parse(readFileSync(`${resultsDir}latest.json`, 'utf8')) as {
    size: Size
    durationMs: number
    results: Parameters<typeof writeReport>[0]
  }
  console.error(`wrote ${writeReport(saved.results, { ...saved, skipped }).join(', ')}`)
  process.exit(0)
}

const started = Date.now()
if (before) console.error(`roomwire before: ${before}`)
if (mainCopy) console.error(`roomwire main: ${mainCopy}`)
const results = await runSuite(specs, {
  runs: values.runs ? Number(values.runs) : RUNS[size],
  codeSource: values.source ? 'source' : 'dist',
  pin: true,
  parallel: false,
  ...(values.profile
    ? { roomwireServerFlags: ['--cpu-prof', '--cpu-prof-interval=200', `--cpu-prof-dir=${profileDir}`] }
    : {}),
  log: (line) => console.error(line),
})
const durationMs = Date.now() - started
mkdirSync(resultsDir, { recursive: true })
// A partial run (--no-report) keeps its results apart: latest.json is what --render rebuilds the report
// from, and a rerun of two scenarios once replaced a full run's there before it was committed.
writeFileSync(
  `${resultsDir}${values['no-report'] ? 'partial' : 'latest'}.json`,
  JSON.stringify({ size, durationMs, before, main: mainCopy, results }, null, 2),
)
for (const line of ratioLines(results)) console.error(line)
if (!values['no-report']) {
  const written = writeReport(results, { size, durationMs, skipped })
  console.error(`wrote ${written.join(', ')}`)
}
console.error(`done in ${Math.round(durationMs / 1000)} s`)
