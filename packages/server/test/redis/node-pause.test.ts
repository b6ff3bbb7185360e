import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TestClient, type TestServer } from '../helpers'
import { type CliNode, deleteKeys, REDIS_URL, spawnCliNode, startNode, uniquePrefix } from './redis-helpers'

const prefix = uniquePrefix()
let paused: CliNode
let other: TestServer
const clients: TestClient[] = []

async function connect(url: string): Promise<TestClient> {
  const client = new TestClient(url)
  clients.push(client)
  await client.next('welcome')
  return client
}

async function join(client: TestClient, room: string) {
  const reply = await client.request({ type: 'join', room })
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`)
  return reply
}

/** The last membership frame a client got about member `id`. */
function lastAbout(client: TestClient, id: string): string | undefined {
  const about = client.messages.filter(
    (m) => (m.type === 'member_left' && m.id === id) || (m.type === 'member_joined' && m.member.id === id),
  )
  return about.at(-1)?.type
}

beforeAll(async () => {
  ;[paused, other] = await Promise.all([spawnCliNode(prefix), startNode(prefix)])
}, 30_000)

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()))
  if (paused.child.exitCode === null) {
    paused.child.kill('SIGCONT')
    paused.child.kill('SIGKILL')
  }
  await paused.exited
  await other.close()
  await deleteKeys(REDIS_URL, prefix)
})

describe('a node paused with SIGSTOP long enough to be reaped', () => {
  it('comes back consistent: its members announced again, its rooms caught up, reachable by direct', async () => {
    const alice = await connect(paused.url)
    const carol = await connect(paused.url)
    const bob = await connect(other.url)
    for (const client of [alice, carol, bob]) await join(client, 'room')
    await other.server.broadcast('room', 'e', 0)
    await alice.next('message', (m) => m.data === 0)

    paused.child.kill('SIGSTOP')
    // Its heartbeat key lapses and the other node removes its members (TTL 1.5 s).
    for (const id of [alice.id, carol.id]) await bob.next('member_left', (m) => m.id === id, 10_000)
    const during: number[] = []
    for (let i = 1; i <= 5; i++) during.push((await other.server.broadcast('room', 'e', i)).seq)
    paused.child.kill('SIGCONT')

    for (const id of [alice.id, carol.id]) await bob.next('member_joined', (m) => m.member.id === id, 10_000)
    for (const client of [alice, carol]) {
      await vi.waitFor(
        () => expect(client.received('message').map((m) => m.data)).toEqual([0, 1, 2, 3, 4, 5]),
        10_000,
      )
      expect(client.received('message').map((m) => m.seq)).toEqual([1, ...during])
    }
    // The paused node's own members, told of each other's reaping, are told of their return.
    await vi.waitFor(() => {
      expect(lastAbout(alice, carol.id)).not.toBe('member_left')
      expect(lastAbout(carol, alice.id)).not.toBe('member_left')
    }, 5000)
    // Both nodes list every member again.
    for (const url of [paused.url, other.url]) {
      const joined = await join(await connect(url), 'room')
      const ids = joined.members.map((m) => m.id)
      expect(ids).toEqual(expect.arrayContaining([alice.id, carol.id, bob.id]))
    }
    await expect(bob.request({ type: 'direct', to: carol.id, event: 'hi', data: 1 })).resolves.toMatchObject({
      type: 'ack',
    })
    await expect(carol.next('direct')).resolves.toMatchObject({ from: bob.id })
  }, 40_000)

  it('never tells its own members that they left themselves', async () => {
    const alice = await connect(paused.url)
    const carol = await connect(paused.url)
    const bob = await connect(other.url)
    for (const client of [alice, carol, bob]) await join(client, 'self')

    paused.child.kill('SIGSTOP')
    for (const id of [alice.id, carol.id]) await bob.next('member_left', (m) => m.id === id, 10_000)
    paused.child.kill('SIGCONT')

    // The paused node hears the reaper's member_left frames before it registers again, and its catch-up
    // announces the return after them: once each of its members heard of the other's return, both had
    // what the node did with the reaper's frames. The pong is written after everything before it.
    await carol.next('member_joined', (m) => m.member.id === alice.id, 10_000)
    await alice.next('member_joined', (m) => m.member.id === carol.id, 10_000)
    for (const client of [alice, carol]) await client.request({ type: 'ping' })
    // A member told it left itself drops itself from its own list, and its return is announced only to
    // the others (issue 13: "drops its own clients from their member lists for good").
    expect(alice.received('member_left').map((m) => m.id)).toEqual([carol.id])
    expect(carol.received('member_left').map((m) => m.id)).toEqual([alice.id])
  }, 40_000)
})
