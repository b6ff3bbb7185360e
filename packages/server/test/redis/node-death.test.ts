import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TestClient } from '../helpers'
import { type CliNode, deleteKeys, REDIS_URL, spawnCliNode, uniquePrefix } from './redis-helpers'

const prefix = uniquePrefix()
let nodes: CliNode[] = []
const clients: TestClient[] = []

async function connect(node: CliNode): Promise<TestClient> {
  const client = new TestClient(node.url)
  clients.push(client)
  await client.next('welcome')
  return client
}

async function join(client: TestClient, room: string, extra: Record<string, unknown> = {}) {
  const reply = await client.request({ type: 'join', room, ...extra })
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`)
  return reply
}

beforeAll(async () => {
  // History holds the whole stream: how far the publisher runs ahead while the reader reconnects depends
  // on the machine's load, and a reconnect that finds its `since` outrun is recovered: false by design.
  const history = ['--rooms-history-size', '1000']
  nodes = await Promise.all([0, 1, 2].map(() => spawnCliNode(prefix, history)))
}, 30_000)

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()))
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL')
  await Promise.all(nodes.map((node) => node.exited))
  await deleteKeys(REDIS_URL, prefix)
})

describe('three server processes sharing Redis, one killed with SIGKILL mid-stream', () => {
  it('loses no message for a client that resumes on another node, and the dead node leaves presence', async () => {
    const [a, b, c] = nodes as [CliNode, CliNode, CliNode]
    const publisher = await connect(a)
    const watcher = await connect(b)
    const reader = await connect(c)
    const ghost = await connect(c)
    await join(publisher, 'stream')
    await join(watcher, 'stream')
    const first = await join(reader, 'stream')
    await join(ghost, 'stream')

    const total = 300
    let published = 0
    const stream = (async () => {
      while (published < total) {
        const n = ++published
        const ack = await publisher.request({
          type: 'publish',
          room: 'stream',
          event: 'n',
          data: n,
          id: `m${n}`,
        })
        if (ack.type !== 'ack') throw new Error(`publish ${n} refused: ${JSON.stringify(ack)}`)
      }
    })()

    await vi.waitFor(() => expect(reader.received('message').length).toBeGreaterThanOrEqual(50), 10_000)
    const deadIds = [reader.id, ghost.id]
    const killedAt = performance.now()
    c.child.kill('SIGKILL')
    await reader.closed
    const seen = reader.received('message')
    const last = seen.at(-1)!.seq

    // The client reconnects to another node and resumes from what it saw.
    const resumed = await connect(b)
    const joined = await join(resumed, 'stream', { since: last, epoch: first.epoch })
    expect(joined.recovered).toBe(true)
    await stream
    await vi.waitFor(() => expect(resumed.received('message').at(-1)?.seq).toBe(total), 10_000)
    const all = [...seen, ...resumed.received('message')].map((m) => m.seq)
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(new Set([...seen, ...resumed.received('message')].map((m) => m.data)).size).toBe(total)

    // Both members of the dead node leave presence on every surviving node, once each, in bounded time.
    for (const client of [publisher, watcher]) {
      await vi.waitFor(() => {
        const left = client.received('member_left').map((m) => m.id)
        expect(left.filter((id) => deadIds.includes(id)).sort()).toEqual([...deadIds].sort())
      }, 8_000)
    }
    // TTL 1.5 s, heartbeat and reaper every 0.45 s: gone well within 4 s.
    expect(performance.now() - killedAt).toBeLessThan(4_000)
    const info = await (await fetch(`http://127.0.0.1:${a.port}/health`)).json()
    expect(info).toMatchObject({ status: 'ok' })
    expect(publisher.received('member_left').filter((m) => deadIds.includes(m.id))).toHaveLength(2)
  }, 30_000)
})
