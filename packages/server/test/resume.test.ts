import type { RoomEventMessage } from '@roomwire/protocol'
import { describe, expect, it, vi } from 'vitest'
import { type AdapterNode, createMemoryAdapter, type RoomAdapter } from '../src/index'
import { heldJoinAdapter } from './adapter-doubles'
import { startTestServer, type TestClient } from './helpers'
import { manualClock } from './manual-clock'

async function publishN(client: TestClient, room: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await client.request({ type: 'publish', room, event: 'e', data: i })
}

describe('history and resume', () => {
  it('answers a history join with joined first, saying how many replayed messages follow', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 5)
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', history: 2 })
    const joined = await bob.next('joined')
    expect(joined).toMatchObject({ seq: 5, replay: 2 })
    await vi.waitFor(() => expect(bob.received('message')).toHaveLength(2))
    expect(
      bob.messages.filter((m) => m.type === 'message' || m.type === 'joined').map((m) => m.type),
    ).toEqual(['joined', 'message', 'message'])
    expect(bob.received('message').map((m) => m.seq)).toEqual([4, 5])
  })

  it('clamps history to the history size', async () => {
    await using server = await startTestServer({ historySize: 3 })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 5)
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', history: 1_000_000 })
    await bob.next('joined')
    expect(bob.received('message').map((m) => m.seq)).toEqual([3, 4, 5])
  })

  it('replays what was missed after since and says recovered: true', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 2)
    const { epoch } = alice.received('joined')[0]!
    await publishN(alice, 'r', 3)
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', since: 2, epoch })
    await expect(bob.next('joined')).resolves.toMatchObject({ seq: 5, recovered: true, epoch, replay: 3 })
    await vi.waitFor(() => expect(bob.received('message').map((m) => m.seq)).toEqual([3, 4, 5]))
  })

  it('says recovered: false and replays what it still holds when the gap is older than the history', async () => {
    await using server = await startTestServer({ historySize: 2 })
    await using alice = await server.connect({ join: 'r' })
    const { epoch } = alice.received('joined')[0]!
    await publishN(alice, 'r', 5)
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', since: 1, epoch })
    await expect(bob.next('joined')).resolves.toMatchObject({ seq: 5, recovered: false, replay: 2 })
    await vi.waitFor(() => expect(bob.received('message').map((m) => m.seq)).toEqual([4, 5]))
  })

  it('says recovered: false when the epoch differs, and replays the current epoch from its start', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 3)
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', since: 7, epoch: 'e_other' })
    await expect(bob.next('joined')).resolves.toMatchObject({ seq: 3, recovered: false, replay: 3 })
    await vi.waitFor(() => expect(bob.received('message').map((m) => m.seq)).toEqual([1, 2, 3]))
  })

  it('says recovered: true with nothing to replay when since is the latest seq', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 2)
    const { epoch } = alice.received('joined')[0]!
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', since: 2, epoch })
    await expect(bob.next('joined')).resolves.toMatchObject({ recovered: true })
    expect(bob.received('message')).toHaveLength(0)
  })
})

describe('the join invariant', () => {
  it('gives a joiner no gap and no duplicate between replay and live messages while others publish', async () => {
    const adapter = heldJoinAdapter()
    await using server = await startTestServer({ adapter, rateLimitPerSec: 0 })
    const first = server.connect({ join: 'r' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    adapter.release()
    await using alice = await first
    await publishN(alice, 'r', 3)
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', history: 100 })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    // Publishes while bob's join waits in the adapter: bob is told about them exactly once.
    await publishN(alice, 'r', 3)
    adapter.release()
    await bob.next('joined')
    await publishN(alice, 'r', 3)
    await bob.next('message', (m) => m.seq === 9)
    expect(bob.received('message').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('keeps replay + live contiguous for many joiners racing many publishes', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    await using publisher = await server.connect({ join: 'race' })
    const total = 200
    const joiners = await Promise.all(Array.from({ length: 10 }, () => server.connect()))
    const publishing = publishN(publisher, 'race', total)
    for (const [i, joiner] of joiners.entries()) {
      await new Promise((resolve) => setTimeout(resolve, i))
      joiner.send({ type: 'join', room: 'race', history: 100 })
    }
    await publishing
    for (const joiner of joiners) {
      const joined = await joiner.next('joined')
      await joiner.next('message', (m) => m.seq === total)
      const seqs = joiner.received('message').map((m: RoomEventMessage) => m.seq)
      const from = seqs[0]!
      expect(seqs).toEqual(Array.from({ length: total - from + 1 }, (_, k) => from + k))
      expect(from).toBeLessThanOrEqual(Math.max(1, joined.seq - 99))
      await joiner.close()
    }
  })
})

describe('reset and idle expiry', () => {
  it('forwards a reset from the adapter to the room members', async () => {
    let node: AdapterNode | undefined
    const inner = createMemoryAdapter()
    const adapter: RoomAdapter = {
      ...inner,
      attach(n, config) {
        node = n
        return inner.attach(n, config)
      },
    }
    await using server = await startTestServer({ adapter })
    await using alice = await server.connect({ join: 'r' })
    node!.deliver('r', { type: 'reset', room: 'r', epoch: 'e_new', seq: 0 })
    await expect(alice.next('reset')).resolves.toEqual({ type: 'reset', room: 'r', epoch: 'e_new', seq: 0 })
  })

  it("keeps an empty room's seq and epoch for the idle timeout, then frees them", async () => {
    await using server = await startTestServer({ idleTimeoutMs: 150 })
    const alice = await server.connect({ join: 'r' })
    const { epoch } = alice.received('joined')[0]!
    await publishN(alice, 'r', 2)
    await alice.close()
    await vi.waitFor(async () => expect(await server.server.rooms()).toEqual([]))
    await expect(server.server.roomInfo('r')).resolves.toMatchObject({ seq: 2, epoch, memberCount: 0 })
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', since: 1, epoch })
    await expect(bob.next('joined')).resolves.toMatchObject({ seq: 2, recovered: true })
    await bob.request({ type: 'leave', room: 'r' })
    await vi.waitFor(async () => expect(await server.server.roomInfo('r')).toBeNull(), { timeout: 2000 })
    bob.send({ type: 'join', room: 'r', since: 2, epoch })
    const fresh = await bob.next('joined', (m) => m.epoch !== epoch)
    expect(fresh).toMatchObject({ seq: 0, recovered: false })
  })
})

describe('heartbeat', () => {
  it('pings connections every ping interval', async () => {
    await using server = await startTestServer({ pingIntervalMs: 40, pongTimeoutMs: 1000 })
    await using alice = await server.connect()
    let pings = 0
    alice.ws.on('ping', () => pings++)
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(2))
  })

  it('keeps a connection that answers pings alive past the deadline', async () => {
    await using server = await startTestServer({ pingIntervalMs: 30, pongTimeoutMs: 30 })
    await using alice = await server.connect()
    let pings = 0
    alice.ws.on('ping', () => pings++)
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(6))
    expect(alice.ws.readyState).toBe(1)
  })

  it('keeps a connection alive that sends nothing but WebSocket pings of its own', async () => {
    await using server = await startTestServer({ pingIntervalMs: 30, pongTimeoutMs: 30 })
    await using alice = await server.connect({ clientOptions: { autoPong: false } })
    let pings = 0
    alice.ws.on('ping', () => {
      pings++
      alice.ws.ping()
    })
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(6))
    expect(alice.ws.readyState).toBe(1)
  })

  it('counts a pong as seen at the sweep after it came, never before', async () => {
    const clock = manualClock()
    await using server = await startTestServer({ pingIntervalMs: 50, pongTimeoutMs: 50, clock })
    await using watcher = await server.connect({ join: 'r' })
    await using ponger = await server.connect({ join: 'r' })
    const pinged = new Promise((resolve) => ponger.ws.once('ping', resolve))
    clock.advance(50)
    await pinged
    // The pong goes out before this ping, and the server reads both before it answers the ping (a frame
    // would count as seen at once, so the answer comes on the watcher's socket, not the ponger's).
    await new Promise<void>((resolve) => ponger.ws.once('pong', () => resolve()) && ponger.ws.ping())
    // Sweeps every 25: the one at 75 notices the pong, so the deadline is 175, not 100.
    clock.advance(25)
    await watcher.request({ type: 'ping' })
    ponger.ws.pause()
    clock.advance(99)
    await watcher.request({ type: 'ping' })
    expect(server.server.connections().map((c) => c.id)).toContain(ponger.id)
    clock.advance(1)
    await expect(watcher.next('member_left', () => true, 3000)).resolves.toMatchObject({ id: ponger.id })
  })

  it('terminates a silent connection once ping interval + pong timeout passed, not before, and tells its rooms', async () => {
    const clock = manualClock()
    await using server = await startTestServer({ pingIntervalMs: 50, pongTimeoutMs: 50, clock })
    await using alice = await server.connect({ join: 'r' })
    await using silent = await server.connect({ join: 'r', clientOptions: { autoPong: false } })
    const pinged = new Promise((resolve) => alice.ws.once('ping', resolve))
    clock.advance(50)
    await pinged
    // Alice's pong is written before this ping, so once it is answered the server has seen her pong at 50.
    await alice.request({ type: 'ping' })
    clock.advance(49)
    await alice.request({ type: 'ping' })
    expect(server.server.connections().map((c) => c.id)).toContain(silent.id)
    clock.advance(1)
    await expect(alice.next('member_left', () => true, 3000)).resolves.toMatchObject({ id: silent.id })
    expect((await silent.closed).code).toBe(1006)
    expect(alice.ws.readyState).toBe(1)
  })
})
