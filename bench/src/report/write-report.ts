import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ratio } from '../harness/stats'
import { IMPLEMENTATION_LABELS, IMPLEMENTATIONS } from '../servers/bench-server'
import { ROOMWIRE_BENCH_OPTIONS } from '../servers/roomwire-options'
import type { ScenarioSpec, Target } from '../suite'
import type { ScenarioResult } from '../suite-runner'
import { describeEnvironment } from './environment'
import { type ChartSeries, renderFanoutChart } from './fanout-chart'
import { formatRatio, formatSpread, formatValue } from './format'

/** Where the report goes, and what it says about the run. */
export interface ReportOptions {
  size: string
  durationMs: number
  /** Implementations left out of the run, with the reason (uWS when its native addon does not load). */
  skipped?: Record<string, string>
  /** Folder for BENCHMARKS.md and the chart. @default the repository's docs/ */
  docsDir?: string
}

const NOTES = fileURLToPath(new URL('../../NOTES.md', import.meta.url))

function targetText(t: Target): string {
  if (t.min === undefined && t.max === undefined) return t.note ?? 'reported'
  const bound = t.min !== undefined ? `≥ ${t.min}` : `≤ ${t.max}`
  if (t.peer === undefined) return t.note === undefined ? bound : `${bound} (${t.note})`
  const peer =
    t.peerScenario === undefined
      ? IMPLEMENTATION_LABELS[t.peer]
      : `${IMPLEMENTATION_LABELS[t.peer]} in ${t.peerScenario}`
  return `${bound}× ${peer}`
}

/** roomwire's figure for a target, over its peer's when it has one. */
export function targetValue(t: Target, spec: ScenarioSpec, results: readonly ScenarioResult[]): number {
  const own = results.find((r) => r.spec.id === spec.id)?.byImpl.roomwire?.median[t.metric]
  if (t.peer === undefined) return own ?? Number.NaN
  const peerResult =
    t.peerScenario === undefined
      ? results.find((r) => r.spec.id === spec.id)
      : results.find((r) => r.spec.id === t.peerScenario)
  return ratio(own, peerResult?.byImpl[t.peer]?.median[t.metric])
}

function targetMet(t: Target, value: number): boolean {
  return (t.min === undefined || value >= t.min) && (t.max === undefined || value <= t.max)
}

function table(result: ScenarioResult): string[] {
  const { spec, byImpl } = result
  const impls = IMPLEMENTATIONS.filter((i) => spec.impls.includes(i))
  const head = ['', ...impls.map((i) => IMPLEMENTATION_LABELS[i])]
  const hasRw = impls.includes('roomwire')
  if (hasRw && impls.includes('ws')) head.push('roomwire ÷ raw ws')
  if (hasRw && impls.includes('uws')) head.push('roomwire ÷ uWS')
  if (hasRw && impls.includes('roomwire-main')) head.push('roomwire ÷ main')
  if (hasRw && impls.includes('roomwire-before')) head.push('roomwire ÷ before')
  if (hasRw && impls.includes('socketio')) head.push('roomwire ÷ Socket.IO')
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`]
  for (const m of spec.metrics) {
    const cells = impls.map((i) => {
      const r = byImpl[i]
      const v = r?.median[m.key]
      return (
        formatValue(v, m.unit) +
        (v !== undefined
          ? formatSpread(
              r!.runs.map((x) => x[m.key]!),
              v,
            )
          : '')
      )
    })
    const rw = byImpl.roomwire?.median[m.key]
    if (hasRw && impls.includes('ws')) cells.push(formatRatio(ratio(rw, byImpl.ws?.median[m.key])))
    if (hasRw && impls.includes('uws')) cells.push(formatRatio(ratio(rw, byImpl.uws?.median[m.key])))
    if (hasRw && impls.includes('roomwire-main'))
      cells.push(formatRatio(ratio(rw, byImpl['roomwire-main']?.median[m.key])))
    if (hasRw && impls.includes('roomwire-before'))
      cells.push(formatRatio(ratio(rw, byImpl['roomwire-before']?.median[m.key])))
    if (hasRw && impls.includes('socketio'))
      cells.push(formatRatio(ratio(rw, byImpl.socketio?.median[m.key])))
    const label = `${m.label} (${m.better === 'higher' ? 'higher' : 'lower'} is better)`
    lines.push(`| ${m.primary ? `**${label}**` : label} | ${cells.join(' | ')} |`)
  }
  return lines
}

function targets(results: ScenarioResult[]): string[] {
  const rows: string[] = []
  for (const { spec } of results) {
    for (const t of spec.targets ?? []) {
      const metric = spec.metrics.find((m) => m.key === t.metric)
      const value = targetValue(t, spec, results)
      const bounded = t.min !== undefined || t.max !== undefined
      const verdict = !Number.isFinite(value)
        ? 'not measured'
        : !bounded
          ? 'reported'
          : targetMet(t, value)
            ? 'met'
            : '**missed**'
      rows.push(
        `| ${spec.title}: ${metric?.label ?? t.metric} | ${targetText(t)} | ${t.peer === undefined ? formatValue(value, 'count') : formatRatio(value, 3)} | ${verdict} |`,
      )
    }
  }
  return rows.length === 0
    ? []
    : ['| figure | target | roomwire | verdict |', '| --- | --- | --- | --- |', ...rows]
}

function chartSeries(results: ScenarioResult[]): ChartSeries[] {
  const fanouts = results.filter((r) => r.spec.scenario === 'fanout' && r.spec.roomSize !== undefined)
  return IMPLEMENTATIONS.map((impl) => ({
    impl,
    points: fanouts.map((r) => ({
      roomSize: (r.spec as ScenarioSpec & { roomSize: number }).roomSize,
      value: r.byImpl[impl]?.median.deliveredPerSec ?? Number.NaN,
    })),
  }))
}

/** Write docs/BENCHMARKS.md and docs/benchmarks-fanout.svg from a suite's results; returns the paths. */
export function writeReport(results: ScenarioResult[], o: ReportOptions): string[] {
  const docs = o.docsDir ?? fileURLToPath(new URL('../../../docs/', import.meta.url))
  const env = describeEnvironment()
  const runs = Math.max(0, ...results.flatMap((r) => Object.values(r.byImpl).map((x) => x.runs.length)))
  const chartPath = `${docs}benchmarks-fanout.svg`
  const chart = chartSeries(results)
  const hasChart = chart.some((s) => s.points.length > 0)
  if (hasChart) {
    writeFileSync(
      chartPath,
      renderFanoutChart(chart, `${env.cpu}, ${env.cores} cores, Node ${env.node}; median of ${runs} runs`),
    )
  }
  const md: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `pnpm bench` (bench/src/report/write-report.ts); the findings come from bench/NOTES.md. Edit those, not this file. -->',
    '',
    `roomwire against what a user would pick instead, measured in one run on one machine: a minimal`,
    `hand-written room server on raw \`ws\` (the floor), the same server on uWebSockets.js (the C++ ceiling:`,
    `its native addon from \`@trufflesuite/uws-js-unofficial\`, a registry republish, since the official`,
    `package is not on the npm registry; the harness loads the addon itself and never the package's JS`,
    `fallback), and Socket.IO 4.`,
    ...Object.entries(o.skipped ?? {}).map(([impl, why]) => `**Left out of this run: ${impl}**, ${why}.`),
    '',
    `Every figure is the median of ${runs} runs (±: half the range of the runs, as a share of the median).`,
    `Ratios are roomwire's figure over the peer's from the same run: above 1 is more, whether more is`,
    `better (throughput) or worse (latency, memory).`,
    '',
    '## Machine and versions',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB |`,
    `| OS | ${env.os} |`,
    `| Node | ${env.node} |`,
    ...env.packages.map(([name, version]) => `| ${name} | ${version} |`),
    `| commit | ${env.commit} |`,
    `| run | \`pnpm bench${o.size === 'quick' ? ' -- --quick' : ''}\`, ${Math.round(o.durationMs / 1000)} s |`,
    '',
    '## Targets (issues 8 and 20)',
    '',
    ...targets(results),
    '',
  ]
  if (hasChart) md.push('![Fan-out: delivered messages per second by room size](benchmarks-fanout.svg)', '')
  if (existsSync(NOTES)) md.push(readFileSync(NOTES, 'utf8').trim(), '')
  md.push('## Results', '')
  for (const r of results) {
    md.push(`### ${r.spec.title}`, '', r.spec.description, '', ...table(r), '')
    const failures = Object.entries(r.byImpl).flatMap(([impl, x]) => x.errors.map((e) => `${impl}: ${e}`))
    if (failures.length > 0)
      md.push('Failed runs (left out of the medians):', '', ...failures.map((f) => `- ${f}`), '')
  }
  md.push(
    '## How it is measured',
    '',
    '- Each server runs in its own Node process pinned to core 0 with `taskset`; the load generator runs in',
    '  another pinned to core 1; the harness (bench/run.mjs) only starts them and relays over IPC. Loopback',
    '  127.0.0.1 only. Every run starts fresh processes; every wait has a deadline; children are killed when',
    '  the harness exits or fails.',
    '- The load generator is equally light for all: raw `ws` sockets speaking roomwire\u2019s JSON for both the raw',
    '  `ws` peer and roomwire (delivered messages are not parsed whole: the timestamp is read from the bytes),',
    '  and socket.io-client for Socket.IO, since that is what its users run. Socket.IO\u2019s client costs more per',
    '  message, so where the load generator\u2019s CPU reads 1.0 the Socket.IO figure is partly the client\u2019s limit.',
    '- Two cores are all there is: in the throughput phases both processes are often at a full core, so a',
    '  figure is the pair\u2019s limit, not the server\u2019s alone. The CPU rows say which side was saturated.',
    '- Latency is publish-to-receive against the intended send time at a fixed offered load (no coordinated',
    '  omission), in a log-linear histogram (under 1.6% bucket error).',
    '- Memory: `process.memoryUsage()` of the server process after three `gc()` passes (`--expose-gc`), read',
    '  over IPC, minus the same reading before any connection.',
    `- roomwire runs with its defaults except: ${Object.entries(ROOMWIRE_BENCH_OPTIONS)
      .map(([k, v]) => `\`${k}: ${JSON.stringify(v)}\``)
      .join(', ')} (limits that would refuse the load itself; history, presence, heartbeat, validation and`,
    '  the slow-consumer cap stay on).',
    '- Cross-node figures (roomwire over Redis, issue 7) are the cross-node fan-out scenario above.',
    '- Before/after comparisons of the server (issue 8) load another copy of its source in the roomwire',
    '  server process (`BENCH_ROOMWIRE_MODULE`) and alternate runs with the current one; see bench/README.md.',
    '',
  )
  const mdPath = `${docs}BENCHMARKS.md`
  writeFileSync(mdPath, md.join('\n'))
  return hasChart ? [mdPath, chartPath] : [mdPath]
}
