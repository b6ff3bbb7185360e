import type { ServerMessage } from '@roomwire/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TestClient, TestServer } from '../helpers'
import { deleteKeys, REDIS_URL, startNode, uniquePrefix } from './redis-helpers'

let prefix = ''
let nodes: TestServer[] = []

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  nodes = []
  await deleteKeys(REDIS_URL, prefix)
})

/**
 * Acks that came before a lower-seq `message` of the room, in the order the connection received its
 * frames: each is an ack that overtook a room frame it follows (PROTOCOL.md, `ack`).
 */
function overtakingAcks(frames: readonly ServerMessage[], room: string): number {
  let acked = 0
  let overtaken = 0
  for (const frame of frames) {
    if (frame.type === 'ack' && frame.seq !== undefined) acked = Math.max(acked, frame.seq)
    if (frame.type === 'message' && frame.room === room && frame.seq < acked) overtaken++
  }
  return overtaken
}

/** Publish `count` messages one at a time (the next after the previous ack), at most `perSecond`. */
async function publishPaced(client: TestClient, room: string, count: number, perSecond: number) {
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    const reply = await client.request({ type: 'publish', room, event: 'e', data: { from: client.id, i } })
    if (reply.type !== 'ack') throw new Error(`publish refused: ${JSON.stringify(reply)}`)
    // Pacing the load, not waiting for a condition.
    const rest = 1000 / perSecond - (performance.now() - started)
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
  }
}

describe('the Redis adapter acking publishes', () => {
  it('never writes an ack before a lower-seq message of the room on the same connection', async () => {
    prefix = uniquePrefix()
    nodes = await Promise.all([startNode(prefix), startNode(prefix)])
    const [a, b] = nodes as [TestServer, TestServer]
    const publishers = [await a.connect(), await a.connect(), await b.connect(), await b.connect()]
    const subscribers = [await a.connect(), await b.connect()]
    for (const client of [...publishers, ...subscribers]) {
      const joined = await client.request({ type: 'join', room: 'race' })
      expect(joined.type).toBe('joined')
    }
    const perClient = 60
    await Promise.all(publishers.map((client) => publishPaced(client, 'race', perClient, 20)))
    const total = perClient * publishers.length
    for (const client of subscribers) await client.next('message', (m) => m.seq === total, 10_000)
    // Every publisher gets every message but its own (no echo); its acks are all in already.
    for (const client of publishers) {
      await vi.waitFor(() => expect(client.received('message')).toHaveLength(total - perClient), 10_000)
      expect(client.received('ack')).toHaveLength(perClient)
    }
    const overtaken = publishers.map((client) => overtakingAcks(client.messages, 'race'))
    expect(overtaken).toEqual([0, 0, 0, 0])
  }, 30_000)
})
