import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Histogram } from '../src/harness/histogram'
import { peakInWindow } from '../src/load/scenarios/reconnect'
import { writeReport } from '../src/report/write-report'
import { buildSuite } from '../src/suite'
import { runSuite, type ScenarioResult, unavailableImplementations } from '../src/suite-runner'

// Every scenario at a tiny size, on every implementation, from the TypeScript sources (no build):
// the benchmarks cannot rot unnoticed. Implementations run side by side here to stay fast.
const results: ScenarioResult[] = []
// uWS runs where its native addon loads, and is left out with the reason otherwise (never its JS fallback).
const skipped = unavailableImplementations()
for (const [impl, why] of Object.entries(skipped)) console.warn(`bench smoke test: skipping ${impl}: ${why}`)

describe('every benchmark scenario at a tiny size', () => {
  for (const spec of buildSuite('smoke').map((s) => ({
    ...s,
    impls: s.impls.filter((i) => !(i in skipped)),
  }))) {
    it(`runs ${spec.id} on ${spec.impls.join(', ')} and reports its figures`, async () => {
      const [result] = await runSuite([spec], {
        runs: 1,
        codeSource: 'source',
        pin: false,
        parallel: true,
        log: () => {},
      })
      results.push(result!)
      const primary = spec.metrics.find((m) => m.primary)!
      for (const impl of spec.impls) {
        expect(result!.byImpl[impl]!.errors).toEqual([])
        expect(Number.isFinite(result!.byImpl[impl]!.median[primary.key])).toBe(true)
      }
    })
  }

  it('writes a report with a table per scenario and the fan-out chart', () => {
    const docsDir = `${mkdtempSync(join(tmpdir(), 'roomwire-bench-'))}/`
    writeReport(results, { size: 'smoke', durationMs: 1, docsDir })
    const md = readFileSync(`${docsDir}BENCHMARKS.md`, 'utf8')
    expect(md).toContain('roomwire ÷ raw ws')
    expect(md).toContain('### Fan-out, one room of 5')
    expect(readFileSync(`${docsDir}benchmarks-fanout.svg`, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/)
  })
})

describe('Histogram', () => {
  it('reports percentiles within its bucket precision', () => {
    const h = new Histogram()
    for (let v = 1; v <= 100_000; v++) h.record(v)
    expect(h.percentile(0.5)).toBeGreaterThan(50_000 * 0.98)
    expect(h.percentile(0.5)).toBeLessThan(50_000 * 1.02)
    expect(h.percentile(0.99)).toBeGreaterThan(99_000 * 0.98)
    expect(h.percentile(0.99)).toBeLessThan(99_000 * 1.02)
  })

  it('merges the counts of another histogram sent as JSON', () => {
    const a = new Histogram()
    const b = new Histogram()
    a.record(10)
    b.record(1000)
    b.record(1000)
    a.merge(JSON.parse(JSON.stringify(b.toJSON())))
    expect(a.count).toBe(3)
    expect(a.percentile(0.5)).toBeGreaterThan(980)
  })
})

describe('peakInWindow', () => {
  it('counts the most events in any window of the given length', () => {
    expect(peakInWindow([0, 10, 20, 500, 1005, 1010, 1015, 1020], 100)).toBe(4)
    expect(peakInWindow([], 100)).toBe(0)
  })
})
