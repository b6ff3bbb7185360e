import { ERROR_CODES, type Protocol } from '@roomwire/protocol'
import { Counter, type Registry } from 'prom-client'
import { FastHistogram } from './request-durations'
import type { RequestMetrics } from './request-runner'

/** Request durations in seconds: from a cache hit to the default 10 s handler timeout. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Per-request-name metrics in the server's registry: `roomwire_requests_total{name}`,
 * `roomwire_request_errors_total{name, code}` and `roomwire_request_duration_seconds{name}`. Every label
 * value comes from a closed set (the handled names; wire codes and declared codes), so a peer sending
 * made-up names cannot grow the series: anything else is counted as `other`.
 */
export function createRequestMetrics(
  registry: Registry,
  protocol: Protocol | undefined,
  handlers: object | undefined,
): RequestMetrics {
  const names = new Set(Object.keys(handlers ?? {}))
  const codes = declaredCodes(protocol)
  const registers = [registry]
  // Counted in a plain map and added at scrape time, like the traffic counters (metrics.ts): prom-client
  // hashes the labels on every inc, a cost on every request (issue 20).
  const counted = new Map<string, number>()
  new Counter({
    name: 'roomwire_requests_total',
    help: 'Requests read, by request name (refused ones included)',
    labelNames: ['name'],
    registers,
    collect() {
      for (const [name, count] of counted) this.inc({ name }, count)
      counted.clear()
    },
  })
  const errors = new Counter({
    name: 'roomwire_request_errors_total',
    help: 'Requests answered with a refusal, by request name and code (application codes included)',
    labelNames: ['name', 'code'],
    registers,
  })
  // Observed without prom-client's per-call label hashing (issue 17), read in its format at scrape time.
  const duration = new FastHistogram({
    name: 'roomwire_request_duration_seconds',
    help: 'Time from a request starting its handler to its answer, by request name',
    label: 'name',
    buckets: DURATION_BUCKETS,
    registers,
  })
  // `aborted`: the caller went away before its handler ended; `cancelled`: the caller cancelled it.
  const wireCodes = new Set<string>([...ERROR_CODES, 'aborted', 'cancelled'])
  const nameLabel = (name: string) => (names.has(name) ? name : 'other')
  const codeLabel = (code: string) => (wireCodes.has(code) || codes.has(code) ? code : 'other')
  // Each name's duration series looked up once. Bounded: the handled names and `other`.
  const durations = new Map<string, (seconds: number) => void>()
  const durationOf = (label: string) => {
    let observe = durations.get(label)
    if (observe === undefined) {
      observe = duration.series(label)
      durations.set(label, observe)
    }
    return observe
  }
  return {
    finished(name, code, seconds) {
      const label = nameLabel(name)
      counted.set(label, (counted.get(label) ?? 0) + 1)
      if (code !== undefined) errors.inc({ name: label, code: codeLabel(code) })
      // A request refused before its handler ran took no handler time: it is counted, not timed.
      if (seconds !== undefined) durationOf(label)(seconds)
    },
  }
}

/** Every refusal code a protocol's requests declare: the closed set of application `code` labels. */
function declaredCodes(protocol: Protocol | undefined): Set<string> {
  const codes = new Set<string>()
  for (const name of Object.keys(protocol?.requests ?? {})) {
    for (const code of protocol?.requestInfo(name)?.errors ?? []) codes.add(code)
  }
  return codes
}
