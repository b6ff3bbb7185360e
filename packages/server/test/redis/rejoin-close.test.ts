import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RoomAdapter } from '../../src/adapter'
import { createRedisAdapter } from '../../src/redis/index'
import { startTestServer, type TestClient, type TestServer } from '../helpers'
import { deleteKeys, REDIS_URL, redisClient, uniquePrefix } from './redis-helpers'
import { type ProxiedConnection, startTcpProxy, type TcpProxy } from './tcp-proxy'

let prefix = ''
let proxy: TcpProxy
let nodes: TestServer[] = []
const room = 'room'

/** A node whose Redis connections carry `name`, and every adapter join it starts. */
async function node(url: string, name: string) {
  const adapter: RoomAdapter = createRedisAdapter({
    url,
    keyPrefix: prefix,
    nodeTtlMs: 1500,
    heartbeatIntervalMs: 300,
    reapIntervalMs: 300,
    // Long enough that nothing times out while the test holds the command connection back.
    commandTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    maxReconnectDelayMs: 100,
    redisOptions: { connectionName: name },
  })
  const joins: Promise<unknown>[] = []
  const join = adapter.join.bind(adapter)
  adapter.join = (...args) => {
    const running = Promise.resolve(join(...args))
    joins.push(running.catch(() => undefined))
    return running
  }
  const server = await startTestServer({ adapter })
  nodes.push(server)
  return { server, joins }
}

async function join(client: TestClient) {
  const reply = await client.request({ type: 'join', room })
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`)
}

async function health(server: TestServer): Promise<{ status: string; connections: number }> {
  return (await fetch(`${server.httpUrl}/health`)).json() as Promise<{ status: string; connections: number }>
}

async function members(): Promise<string[]> {
  const redis = await redisClient()
  try {
    return (await redis.hkeys(`${prefix}room:{${room}}:members`)).sort()
  } finally {
    redis.disconnect()
  }
}

/** The Redis client ids of the connections named `name`. */
async function clientIds(name: string): Promise<string[]> {
  const redis = await redisClient()
  try {
    const list = String(await redis.client('LIST'))
    return list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /id=(\d+)/.exec(line)![1]!)
  } finally {
    redis.disconnect()
  }
}

/** CLIENT KILL the connections named `name`; resolves once they are both made again. */
async function killLink(name: string): Promise<() => Promise<void>> {
  const before = await clientIds(name)
  expect(before).toHaveLength(2)
  const redis = await redisClient()
  try {
    for (const id of before) await redis.client('KILL', 'ID', id)
  } finally {
    redis.disconnect()
  }
  return () =>
    vi.waitFor(
      async () => {
        const now = await clientIds(name)
        expect(now).toHaveLength(2)
        expect(now.filter((id) => before.includes(id))).toEqual([])
      },
      { timeout: 8000, interval: 50 },
    )
}

/** The membership frames `client` got about member `id`, in order. */
function about(client: TestClient, id: string): string[] {
  return client.messages
    .filter(
      (m) => (m.type === 'member_left' && m.id === id) || (m.type === 'member_joined' && m.member.id === id),
    )
    .map((m) => m.type)
}

/** Node `a` (through the proxy) with `alice` and `ghost` in the room, node `b` with `bob`. */
async function cluster() {
  const name = `rejoin-${randomBytes(4).toString('hex')}`
  const a = await node(proxy.url, name)
  const b = await node(REDIS_URL, `${name}-b`)
  const [alice, ghost, bob] = [await a.server.connect(), await a.server.connect(), await b.server.connect()]
  for (const client of [bob, alice, ghost]) await join(client)
  await bob.next('member_joined', (m) => m.member.id === ghost.id)
  return { a, b, alice, ghost, bob, name }
}

/**
 * Hold node a's command connection, send `ghost`'s second join, see its script reach the held link, and
 * drop the socket (1006): the close's leave is issued while the re-join is in flight.
 */
async function rejoinAndDrop(a: { server: TestServer }, ghost: TestClient): Promise<void> {
  const command = proxy.connections().find((c) => !/subscribe/i.test(c.sent)) as ProxiedConnection
  proxy.pause((c) => c === command)
  ghost.send({ type: 'join', room, ref: 'again' })
  await vi.waitFor(() => expect(command.held).toContain(ghost.id), { interval: 5 })
  await ghost.close()
  await vi.waitFor(async () => expect((await health(a.server)).connections).toBe(1), { interval: 10 })
}

/** After every join settled, one more reconnect: the node registers its members again from what it holds. */
async function settleAndReconnect(a: { server: TestServer; joins: Promise<unknown>[] }, name: string) {
  await Promise.all(a.joins)
  const reconnected = await killLink(name)
  await reconnected()
  await vi.waitFor(async () => expect((await health(a.server)).status).toBe('ok'), 8000)
}

beforeEach(async () => {
  prefix = uniquePrefix()
  proxy = await startTcpProxy()
})

afterEach(async () => {
  proxy.resume()
  await Promise.all(nodes.map((server) => server.close()))
  nodes = []
  await proxy.close()
  await deleteKeys(REDIS_URL, prefix)
})

describe('a re-join (join while joined) whose socket drops while its join is in flight', () => {
  it('leaves for good: its answer after the leave does not make it a member of the node again', async () => {
    const { a, alice, ghost, bob, name } = await cluster()
    await rejoinAndDrop(a, ghost)
    proxy.resume()
    // The join then the leave reach Redis in that order: the others are told it left.
    await bob.next('member_left', (m) => m.id === ghost.id, 8000)
    await settleAndReconnect(a, name)
    expect(await members()).toEqual([alice.id, bob.id].sort())
    expect(about(bob, ghost.id)).toEqual(['member_joined', 'member_left'])
  }, 30_000)

  it("is not registered again by the node's restore while it waits for its mark", async () => {
    const { a, alice, ghost, bob } = await cluster()
    // Node a's subscriber is held: the re-join's script runs, and its answer waits for the mark it published.
    const subscriber = proxy.connections().find((c) => /subscribe/i.test(c.sent)) as ProxiedConnection
    proxy.pause((c) => c === subscriber)
    ghost.send({ type: 'join', room, ref: 'again' })
    await vi.waitFor(() => expect(subscriber.heard).toContain(`room:{${room}}`), { interval: 5 })
    // The close's leave reaches Redis at once; the re-join is still in flight.
    await ghost.close()
    await bob.next('member_left', (m) => m.id === ghost.id, 5000)
    // The subscriber dies with the mark: the node registers again while the re-join still waits for it.
    subscriber.destroy()
    await vi.waitFor(() =>
      expect(proxy.connections().some((c) => c !== subscriber && /subscribe/i.test(c.sent))).toBe(true),
    )
    await vi.waitFor(async () => expect((await health(a.server)).status).toBe('ok'), 8000)
    // Once the re-join is done with the adapter, Redis holds only the members still connected.
    await Promise.all(a.joins)
    await vi.waitFor(async () => expect(await members()).toEqual([alice.id, bob.id].sort()), 3000)
    expect(about(bob, ghost.id)).toEqual(['member_joined', 'member_left'])
  }, 30_000)
})
