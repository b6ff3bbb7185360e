import type { ServerMessage } from '@roomwire/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRedisAdapter } from '../../src/redis'
import { startTestServer, type TestServer } from '../helpers'
import { deleteKeys, REDIS_URL, startNode, uniquePrefix } from './redis-helpers'

let prefix = ''
let nodes: TestServer[] = []

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  nodes = []
  await deleteKeys(REDIS_URL, prefix)
})

/** The answers (ack or error) among `frames`, as `ref:seq` or `ref:code`, in the order they came. */
function answers(frames: readonly ServerMessage[]): string[] {
  const out: string[] = []
  for (const frame of frames) {
    if (frame.type === 'ack') out.push(`${frame.ref}:${frame.seq}`)
    if (frame.type === 'error') out.push(`${frame.ref}:${frame.code}`)
  }
  return out
}

describe('a burst of publishes from one connection on Redis (started together, issue 20)', () => {
  it('gets seqs, acks and refusals in the order sent, and every node delivers them in that order', async () => {
    prefix = uniquePrefix()
    // Node a's adapter counts the publishes it has in flight at once: they must overlap (issue 20).
    const adapter = createRedisAdapter({ url: REDIS_URL, keyPrefix: prefix })
    const publish = adapter.publish.bind(adapter)
    let inFlight = 0
    let overlapping = 0
    adapter.publish = (room, input) => {
      overlapping = Math.max(overlapping, ++inFlight)
      const pending = Promise.resolve(publish(room, input))
      pending.then(
        () => inFlight--,
        () => inFlight--,
      )
      return pending
    }
    nodes = await Promise.all([startTestServer({ adapter }), startNode(prefix)])
    const [a, b] = nodes as [TestServer, TestServer]
    const publisher = await a.connect()
    const near = await a.connect()
    const far = await b.connect()
    for (const client of [publisher, near, far]) {
      expect((await client.request({ type: 'join', room: 'burst' })).type).toBe('joined')
    }
    // 60 publishes in one go, without waiting for any ack; two in the middle are refused by the handler at
    // once (a room the publisher is not in) and must be answered in their place all the same.
    const count = 60
    const expected: string[] = []
    let seq = 0
    for (let ref = 1; ref <= count; ref++) {
      if (ref === 20 || ref === 41) {
        publisher.send({ type: 'publish', room: 'elsewhere', event: 'e', data: {}, ref })
        expected.push(`${ref}:not_joined`)
      } else {
        publisher.send({ type: 'publish', room: 'burst', event: 'e', data: { ref }, ref })
        expected.push(`${ref}:${++seq}`)
      }
    }
    await vi.waitFor(() => expect(answers(publisher.messages)).toHaveLength(count), 10_000)
    expect(answers(publisher.messages)).toEqual(expected)
    expect(overlapping).toBeGreaterThan(1)
    const sent = expected
      .filter((answer) => /:\d+$/.test(answer))
      .map((answer) => Number(answer.split(':')[0]))
    for (const member of [near, far]) {
      await vi.waitFor(() => expect(member.received('message')).toHaveLength(sent.length), 10_000)
      const got = member.received('message')
      expect(got.map((m) => (m.data as { ref: number }).ref)).toEqual(sent)
      expect(got.map((m) => m.seq)).toEqual(sent.map((_, i) => i + 1))
    }
  }, 30_000)
})
