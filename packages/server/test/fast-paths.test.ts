import { encode } from '@roomwire/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ackText } from '../src/frames'
import { startTestServer } from './helpers'

// Replies and counters take shortcuts for speed (docs/BENCHMARKS.md, echo): same bytes, same numbers.

describe('ack frames built by hand', () => {
  it('are the same text as encode() for any ref and seq', () => {
    const ref = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 64 }), fc.integer(), fc.double())
    fc.assert(
      fc.property(ref, fc.option(fc.nat(), { nil: undefined }), (r, seq) => {
        const expected =
          seq === undefined ? encode({ type: 'ack', ref: r }) : encode({ type: 'ack', ref: r, seq })
        expect(ackText(r, seq)).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })
})

describe('traffic counters', () => {
  it('report every frame in and out at each scrape, counted once', async () => {
    await using server = await startTestServer()
    await using a = await server.connect({ join: 'r' })
    await using b = await server.connect({ join: 'r' })
    const scrape = async () => {
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
      const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1])
      return {
        publishes: value('roomwire_messages_in_total\\{type="publish"\\}'),
        out: value('roomwire_messages_out_total'),
        bytesIn: value('roomwire_bytes_in_total'),
      }
    }
    const first = await scrape()
    for (let i = 0; i < 3; i++) {
      await a.request({ type: 'publish', room: 'r', event: 'e', data: i })
      await b.next('message', (m) => m.data === i)
    }
    const second = await scrape()
    // Each publish: the message to b and the ack to a.
    expect(second.out - first.out).toBe(6)
    expect(second.publishes - (Number.isNaN(first.publishes) ? 0 : first.publishes)).toBe(3)
    expect(second.bytesIn).toBeGreaterThan(first.bytesIn)
    expect(await scrape()).toEqual(second)
  })
})
