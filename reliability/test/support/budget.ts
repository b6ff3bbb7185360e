import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'

function seconds(variable: string, defaultSeconds: number): number {
  const raw = Number(process.env[variable])
  return Number.isFinite(raw) && raw > 0 ? raw : defaultSeconds
}

/** Seconds the fuzz tests may run: ROOMWIRE_FUZZ_SECONDS, else a CI-sized default. */
export function fuzzSeconds(defaultSeconds = 30): number {
  return seconds('ROOMWIRE_FUZZ_SECONDS', defaultSeconds)
}

/** Seconds the model-based delivery tests may run: ROOMWIRE_MODEL_SECONDS, else a CI-sized default. */
export function modelSeconds(defaultSeconds = 60): number {
  return seconds('ROOMWIRE_MODEL_SECONDS', defaultSeconds)
}

/**
 * The seed of a property: `variable` (to replay a printed failure), else a fresh one. fast-check prints
 * the seed and the counterexample's path on failure; `ROOMWIRE_FC_PATH` replays that path directly.
 */
export function seedFrom(variable: string): { seed: number; path?: string } {
  const raw = Number(process.env[variable])
  const seed = Number.isInteger(raw) ? raw : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0
  const path = process.env.ROOMWIRE_FC_PATH
  return path === undefined || path === '' ? { seed } : { seed, path }
}

/**
 * A fast-check plugin that starts no run (and no shrinking step) after `deadline` (performance.now()),
 * and never abandons one that is running: unlike `interruptAfterTimeLimit`, whose cut-off leaves the
 * running predicate going in the background, so its sockets and processes would outlive the test. A
 * failure found before the deadline is still reported, shrunk as far as the time allowed.
 */
export function stopStartingAfter(deadline: number): fc.Plugin<unknown> {
  return () => ({
    decorateRun: (nestedRun) => (value) =>
      performance.now() >= deadline ? new fc.PreconditionFailure(true) : nestedRun(value),
  })
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

/**
 * Poll `condition` until it holds or `timeoutMs` passed; resolves whether it held. For waits inside a
 * property run, where a timeout is an outcome to report, not an exception.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await condition()) return true
    if (performance.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
