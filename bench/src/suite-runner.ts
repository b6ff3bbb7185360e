import type { CodeSource } from './harness/child-process'
import { median, ratio } from './harness/stats'
import { runScenario } from './run-scenario'
import { type Implementation, isRoomwire } from './servers/bench-server'
import { loadUws } from './servers/uws-addon'
import type { ScenarioSpec } from './suite'

/** Every run of one scenario on one implementation, and the median of each figure. */
export interface ImplResult {
  runs: Array<Record<string, number>>
  median: Record<string, number>
  errors: string[]
}

/** A scenario's results by implementation. */
export interface ScenarioResult {
  spec: ScenarioSpec
  byImpl: Partial<Record<Implementation, ImplResult>>
}

/** How to run a suite. */
export interface SuiteOptions {
  runs: number
  codeSource: CodeSource
  pin: boolean
  /** Run the implementations side by side (the smoke test does, to stay fast); never for measurements. */
  parallel: boolean
  /** Node flags for roomwire's server process (profiling). */
  roomwireServerFlags?: string[]
  log: (line: string) => void
}

/** Run every scenario `runs` times on each of its implementations, interleaved so drift hits all alike. */
export async function runSuite(specs: ScenarioSpec[], o: SuiteOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const spec of specs) {
    const byImpl: ScenarioResult['byImpl'] = {}
    for (const impl of spec.impls) byImpl[impl] = { runs: [], median: {}, errors: [] }
    for (let run = 1; run <= o.runs; run++) {
      const one = async (impl: Implementation): Promise<void> => {
        const started = performance.now()
        const target = byImpl[impl]!
        try {
          const values = await runScenario({
            scenario: spec.scenario,
            impl,
            serverImpl: spec.serverFor?.(impl) ?? impl,
            params: spec.params,
            standby: spec.standby ?? false,
            ...(spec.servers === undefined ? {} : { servers: spec.servers }),
            ...(spec.serverSettings === undefined ? {} : { serverSettings: spec.serverSettings }),
            timeoutMs: spec.timeoutMs,
            codeSource: o.codeSource,
            pin: o.pin,
            ...(isRoomwire(impl) && o.roomwireServerFlags ? { serverFlags: o.roomwireServerFlags } : {}),
          })
          target.runs.push(values)
          const primary = spec.metrics.find((m) => m.primary)
          o.log(
            `${spec.id} ${impl} run ${run}/${o.runs}: ${primary ? `${primary.key}=${format(values[primary.key])}` : ''} ` +
              `(${Math.round(performance.now() - started)} ms)`,
          )
        } catch (error) {
          const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
          target.errors.push(message)
          o.log(`${spec.id} ${impl} run ${run}/${o.runs}: FAILED ${message}`)
        }
      }
      if (o.parallel) await Promise.all(spec.impls.map(one))
      else for (const impl of spec.impls) await one(impl)
    }
    for (const impl of spec.impls) {
      const r = byImpl[impl]!
      for (const m of spec.metrics) r.median[m.key] = median(r.runs.map((v) => v[m.key] ?? Number.NaN))
    }
    results.push({ spec, byImpl })
  }
  return results
}

function format(v: number | undefined): string {
  return v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(1)
}

/** Implementations that cannot run on this machine, with the reason (uWS without its native addon). */
export function unavailableImplementations(): Partial<Record<Implementation, string>> {
  const uws = loadUws()
  return uws.ok ? {} : { uws: uws.reason }
}

/** Every figure of every scenario as roomwire's ratio to raw ws and to uWS, one line each, for the console. */
export function ratioLines(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = []
  for (const { spec, byImpl } of results) {
    const rw = byImpl.roomwire?.median
    if (!rw) continue
    for (const m of spec.metrics) {
      const parts = (['ws', 'uws', 'roomwire-main', 'roomwire-before'] as const)
        .filter((peer) => byImpl[peer] !== undefined)
        .map((peer) => `÷ ${peer} ${ratio(rw[m.key], byImpl[peer]!.median[m.key]).toFixed(2)}x`)
      if (parts.length > 0)
        lines.push(`${spec.id} ${m.key}: roomwire ${format(rw[m.key])} ${parts.join(', ')}`)
    }
  }
  return lines
}
