import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRedisAdapter, type RedisAdapterOptions } from '../../src/redis/index'
import { startTestServer, type TestClient, type TestServer } from '../helpers'
import { type PrivateRedis, privateRedis } from './redis-helpers'
import { startTcpProxy, type TcpProxy } from './tcp-proxy'

let redis: PrivateRedis
let proxy: TcpProxy
let nodes: TestServer[] = []

async function node(url: string, options: RedisAdapterOptions = {}): Promise<TestServer> {
  const server = await startTestServer({
    adapter: createRedisAdapter({
      url,
      keyPrefix: 'rw:',
      nodeTtlMs: 1500,
      heartbeatIntervalMs: 300,
      reapIntervalMs: 300,
      commandTimeoutMs: 500,
      connectTimeoutMs: 2000,
      maxReconnectDelayMs: 100,
      ...options,
    }),
  })
  nodes.push(server)
  return server
}

async function join(client: TestClient, room: string) {
  const reply = await client.request({ type: 'join', room })
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`)
  return reply
}

/** Publish `data` with an id, retrying while the store is unavailable (as the SDK does); resolves its seq. */
async function publishUntilAcked(client: TestClient, data: number): Promise<number> {
  for (;;) {
    const reply = await client.request({ type: 'publish', room: 'room', event: 'e', data, id: `m${data}` })
    if (reply.type === 'ack') return reply.seq!
    if (reply.type !== 'error' || reply.code !== 'unavailable') {
      throw new Error(`publish refused: ${JSON.stringify(reply)}`)
    }
    // A retry backoff, as the SDK's.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The room's messages a client got after its `reset`, and the reset. */
function afterReset(client: TestClient) {
  const at = client.messages.findIndex((m) => m.type === 'reset')
  const reset = client.messages[at]
  if (reset?.type !== 'reset') throw new Error('no reset')
  const messages = client.messages.slice(at + 1).flatMap((m) => (m.type === 'message' ? [m] : []))
  return { reset, messages }
}

beforeEach(async () => {
  redis = await privateRedis()
  await redis.start()
  proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port })
})

afterEach(async () => {
  proxy.resume()
  await Promise.all(nodes.map((server) => server.close()))
  nodes = []
  await proxy.close()
  await redis.stop()
})

describe('the Redis adapter when Redis restarts empty mid-stream', () => {
  it('sends a node that learns of the new epoch late a reset that skips no acked message, then replays them', async () => {
    const late = await node(proxy.url)
    const early = await node(redis.url)
    const alice = await late.connect()
    const bob = await early.connect()
    const publisher = await early.connect()
    const first = await join(alice, 'room')
    await join(bob, 'room')
    await join(publisher, 'room')
    for (let i = 1; i <= 3; i++) await publishUntilAcked(publisher, i)
    await alice.next('message', (m) => m.seq === 3)

    // The late node hears nothing while Redis restarts empty and the early node goes on acking.
    proxy.pause()
    await redis.stop()
    await redis.start()
    const acked: number[] = []
    for (let i = 4; i <= 8; i++) {
      await publishUntilAcked(publisher, i)
      acked.push(i)
    }
    proxy.resume()

    for (const client of [alice, bob]) {
      await client.next('reset', () => true, 10_000)
      await vi.waitFor(() => expect(afterReset(client).messages.map((m) => m.data)).toEqual(acked), 10_000)
      const { reset, messages } = afterReset(client)
      expect(reset.epoch).not.toBe(first.epoch)
      expect(messages.map((m) => m.seq)).toEqual(acked.map((_, i) => reset.seq + i + 1))
    }
  }, 30_000)
})
