import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Seconds the fuzz tests may run: ROOMWIRE_FUZZ_SECONDS, else a CI-sized default. */
export function fuzzSeconds(defaultSeconds = 30): number {
  const raw = Number(process.env.ROOMWIRE_FUZZ_SECONDS)
  return Number.isFinite(raw) && raw > 0 ? raw : defaultSeconds
}

/** Where measurements go: ROOMWIRE_RELIABILITY_REPORT, else a JSON-lines file in the temp folder. */
export const reportFile =
  process.env.ROOMWIRE_RELIABILITY_REPORT ?? join(tmpdir(), 'roomwire-reliability.jsonl')

/**
 * Record a measurement so a run's numbers can be copied into docs/RELIABILITY.md. Printed too, but the root
 * config hides passing tests' output, so the file is what keeps them.
 */
export function report(label: string, values: Record<string, unknown>): void {
  const line = JSON.stringify({ label, at: new Date().toISOString(), ...values })
  appendFileSync(reportFile, `${line}\n`)
  console.log(`[reliability] ${line}`)
}
