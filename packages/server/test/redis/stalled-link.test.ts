import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRedisAdapter } from '../../src/redis/index'
import { startTestServer, type TestClient, type TestServer } from '../helpers'
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers'
import { startTcpProxy, type TcpProxy } from './tcp-proxy'

let prefix = ''
let proxy: TcpProxy
let nodes: TestServer[] = []

async function node(url: string): Promise<TestServer> {
  const server = await startTestServer({
    adapter: createRedisAdapter({
      url,
      keyPrefix: prefix,
      nodeTtlMs: 1500,
      heartbeatIntervalMs: 300,
      reapIntervalMs: 300,
      commandTimeoutMs: 500,
      connectTimeoutMs: 2000,
      maxReconnectDelayMs: 100,
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

async function health(server: TestServer): Promise<{ status: string; reason?: string }> {
  return (await fetch(`${server.httpUrl}/health`)).json() as Promise<{ status: string; reason?: string }>
}

/** Node `stalled` reaches Redis through the proxy; node `direct` does not. */
async function cluster() {
  const stalled = await node(proxy.url)
  const direct = await node(REDIS_URL)
  const alice = await stalled.connect()
  const bob = await direct.connect()
  await join(alice, 'room')
  await join(bob, 'room')
  await direct.server.broadcast('room', 'e', 'before')
  await alice.next('message', (m) => m.data === 'before')
  return { stalled, direct, alice, bob }
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

describe('a node whose link to Redis stalls (no reset)', () => {
  it('says degraded and refuses publishes with unavailable while the link is stalled', async () => {
    const { stalled, alice } = await cluster()
    proxy.pause()
    await vi.waitFor(async () => expect((await health(stalled)).status).toBe('degraded'), 5000)
    expect((await health(stalled)).reason).toContain('cluster store')
    const refused = await alice.request({ type: 'publish', room: 'room', event: 'e', data: 1, id: 'x1' })
    expect(refused).toMatchObject({ type: 'error', code: 'unavailable' })
  })

  it('says degraded while only its subscriber stalls, and ok again once healed, its rooms caught up', async () => {
    const { stalled, direct, alice, bob } = await cluster()
    // Commands still flow: only what this node hears is missing, which only its probe shows.
    proxy.pause((connection) => /subscribe/i.test(connection.sent))
    await vi.waitFor(async () => expect((await health(stalled)).status).toBe('degraded'), 5000)
    await direct.server.broadcast('room', 'e', 'during')
    proxy.resume()
    await vi.waitFor(async () => expect((await health(stalled)).status).toBe('ok'), 5000)
    await alice.next('message', (m) => m.data === 'during')
    expect(alice.received('message').map((m) => m.seq)).toEqual([1, 2])
    expect(bob.received('member_left')).toHaveLength(0)
  })

  it('rejoins the cluster once healed: members announced again, rooms caught up, reachable by direct', async () => {
    const { stalled, direct, alice, bob } = await cluster()
    proxy.pause()
    // Long enough for the other node to reap the stalled one's members.
    await bob.next('member_left', (m) => m.id === alice.id, 5000)
    const during: number[] = []
    for (let i = 1; i <= 10; i++) during.push((await direct.server.broadcast('room', 'e', i)).seq)
    proxy.resume()

    await bob.next('member_joined', (m) => m.member.id === alice.id, 5000)
    await vi.waitFor(async () => expect((await health(stalled)).status).toBe('ok'), 5000)
    await vi.waitFor(
      () =>
        expect(alice.received('message').map((m) => m.data)).toEqual([
          'before',
          ...during.map((_, i) => i + 1),
        ]),
      5000,
    )
    expect(alice.received('message').map((m) => m.seq)).toEqual([1, ...during])
    for (const server of [stalled, direct]) {
      const info = await server.server.roomInfo('room')
      expect(info?.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort())
    }
    await expect(bob.request({ type: 'direct', to: alice.id, event: 'hi', data: 1 })).resolves.toMatchObject({
      type: 'ack',
    })
    await expect(alice.next('direct')).resolves.toMatchObject({ from: bob.id, data: 1 })
  }, 20_000)

  it('answers a join whose subscription stalled with unavailable and leaves no member behind', async () => {
    const { stalled, direct, alice, bob } = await cluster()
    // Only the stalled node's subscriber connection stops; its commands still flow.
    proxy.pause((connection) => /subscribe/i.test(connection.sent))
    const carol = await stalled.connect()
    await expect(carol.request({ type: 'join', room: 'room' })).resolves.toMatchObject({
      type: 'error',
      code: 'unavailable',
    })
    // Taken back before the refusal was sent, by the node itself: it cannot register again meanwhile.
    const info = await direct.server.roomInfo('room')
    expect(info?.members.map((m) => m.id)).toEqual(expect.arrayContaining([alice.id, bob.id]))
    expect(info?.members.map((m) => m.id)).not.toContain(carol.id)
    // Announced once each way, or not at all.
    const announced = bob.received('member_joined').filter((m) => m.member.id === carol.id).length
    await vi.waitFor(() => {
      expect(bob.received('member_left').filter((m) => m.id === carol.id)).toHaveLength(announced)
    })
  })
})
