import { Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createRequestMetrics } from '../src/request-metrics'

const NAME = 'roomwire_request_duration_seconds'
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The exposition prom-client's own Histogram gives for the same observations: the format to keep. */
async function promClientText(observations: [string, number][]): Promise<string> {
  const registry = new Registry()
  const reference = new Histogram({
    name: NAME,
    help: 'Time from a request starting its handler to its answer, by request name',
    labelNames: ['name'],
    buckets: BUCKETS,
    registers: [registry],
  })
  for (const [name, seconds] of observations) reference.labels(name).observe(seconds)
  return registry.getSingleMetricAsString(NAME)
}

describe('roomwire_request_duration_seconds', () => {
  // On bounds, between them, past the last, and a name no handler has (counted as `other`).
  const observations: [string, number][] = [
    ['a', 0.0004],
    ['a', 0.001],
    ['b', 0.003],
    ['a', 0.02],
    ['other', 0.7],
    ['b', 10],
    ['a', 42],
    ['a', 0.0123],
  ]

  it("reads as prom-client's histogram after observations: buckets, sum, count", async () => {
    const registry = new Registry()
    const metrics = createRequestMetrics(registry, undefined, { a: () => 1, b: () => 2 })
    for (const [name, seconds] of observations)
      metrics.finished(name === 'other' ? 'x' : name, undefined, seconds)
    // A request refused before its handler ran is counted, not timed.
    metrics.finished('a', 'invalid_event')
    const text = await registry.getSingleMetricAsString(NAME)
    expect(text).toBe(await promClientText(observations))
    expect(text).toContain(`${NAME}_bucket{le="0.001",name="a"} 2`)
    expect(text).toContain(`${NAME}_bucket{le="+Inf",name="a"} 5`)
    expect(text).toContain(`${NAME}_count{name="a"} 5`)
    expect(text).toContain(`${NAME}_sum{name="b"} 10.003`)
    expect(await registry.metrics()).toContain(text)
  })

  it('has no series before an observation, nor after a reset, as prom-client', async () => {
    const registry = new Registry()
    const metrics = createRequestMetrics(registry, undefined, { a: () => 1 })
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await promClientText([]))
    metrics.finished('a', undefined, 0.002)
    registry.resetMetrics()
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await promClientText([]))
    metrics.finished('a', undefined, 0.3)
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await promClientText([['a', 0.3]]))
  })
})
