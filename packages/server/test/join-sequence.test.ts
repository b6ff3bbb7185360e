import type { Member, RoomEventMessage, ServerMessage } from '@roomwire/protocol'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import type { AdapterNode, RoomAdapter } from '../src/index'
import { heldJoinAdapter } from './adapter-doubles'
import { startTestServer, type TestClient, type TestServer } from './helpers'

type Socket = { _socket: { pause(): void; resume(): void } }
const pause = (client: TestClient) => (client.ws as unknown as Socket)._socket.pause()
const resume = (client: TestClient) => (client.ws as unknown as Socket)._socket.resume()

async function publishN(
  client: TestClient,
  room: string,
  n: number,
  data: string | number = 0,
): Promise<void> {
  for (let i = 0; i < n; i++) await client.request({ type: 'publish', room, event: 'e', data })
}

/** Every frame of `room` a client received from its (last) `joined` on. */
function fromJoined(client: TestClient, room: string): ServerMessage[] {
  const frames = client.messages.filter((m) => 'room' in m && m.room === room)
  const last = frames.map((m) => m.type).lastIndexOf('joined')
  return frames.slice(last)
}

/** The member list of a join: `joined.members` and every `members` page after it. */
function memberList(frames: ServerMessage[]): Member[] {
  return frames.flatMap((m) => (m.type === 'joined' || m.type === 'members' ? m.members : []))
}

async function slowConsumers(server: TestServer): Promise<string> {
  return server.server.metrics.getSingleMetricAsString('roomwire_slow_consumers_total')
}

describe('the frames of a join', () => {
  it('come as joined, member pages, replay, then live, with publishes racing the join', async () => {
    const adapter = heldJoinAdapter()
    // A 16 KiB send buffer: member pages of 4 KiB, and a replay that has to wait for the socket.
    await using server = await startTestServer({ adapter, maxBufferedBytes: 16 * 1024, rateLimitPerSec: 0 })
    const presence = { bio: 'p'.repeat(1500) }
    const members: TestClient[] = []
    for (let i = 0; i < 6; i++) {
      const joining = server.connect()
      const client = await joining
      client.send({ type: 'join', room: 'r', presence })
      await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
      adapter.release()
      await client.next('joined')
      members.push(client)
    }
    const alice = members[0]!
    await publishN(alice, 'r', 20, 'h'.repeat(1000))
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', history: 100, ref: 'j' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    // Before the adapter answers: these are part of the replay, never sent twice.
    await publishN(alice, 'r', 3, 'before')
    pause(bob)
    adapter.release()
    // After it answered, while bob reads nothing and its replay waits for the socket: these come live.
    await vi.waitFor(async () => expect((await server.server.roomInfo('r'))?.memberCount).toBe(7))
    await publishN(alice, 'r', 3, 'after')
    resume(bob)
    await bob.next('message', (m) => m.seq === 26)

    const frames = fromJoined(bob, 'r')
    const joined = frames[0]
    expect(joined).toMatchObject({ type: 'joined', seq: 23, replay: 23, more: true, ref: 'j' })
    const pages = frames.filter((m) => m.type === 'members')
    expect(pages.length).toBeGreaterThan(0)
    expect(frames.map((m) => m.type)).toEqual([
      'joined',
      ...pages.map(() => 'members'),
      ...Array.from({ length: 26 }, () => 'message'),
    ])
    expect(pages.map((m) => m.more)).toEqual([...pages.slice(1).map(() => true), undefined])
    expect(
      memberList(frames)
        .map((m) => m.id)
        .sort(),
    ).toEqual([...members.map((m) => m.id), bob.id].sort())
    const messages = frames.filter((m): m is RoomEventMessage => m.type === 'message')
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1))
    expect(messages.slice(-3).map((m) => m.data)).toEqual(['after', 'after', 'after'])
    expect(await slowConsumers(server)).toMatch(/ 0$/m)
  })

  it('gives a member joining the same room again the same sequence, with nothing announced', async () => {
    await using server = await startTestServer({ maxBufferedBytes: 16 * 1024 })
    await using alice = await server.connect({ join: 'r' })
    await using bob = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 4)
    const { epoch } = bob.received('joined')[0]!
    bob.send({ type: 'join', room: 'r', since: 1, epoch, ref: 2 })
    await bob.next('joined', (m) => m.ref === 2)
    await bob.next('message', (m) => m.seq === 4)
    const frames = fromJoined(bob, 'r')
    expect(frames[0]).toMatchObject({ type: 'joined', seq: 4, replay: 3, recovered: true })
    expect(frames.slice(1).map((m) => (m.type === 'message' ? m.seq : m.type))).toEqual([2, 3, 4])
    expect(alice.received('member_joined')).toHaveLength(1)
    expect(alice.received('member_left')).toHaveLength(0)
  })

  it('pages a member list of 515 members with 2 KB presence so that a newcomer is not closed', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    const presence = { bio: 'p'.repeat(2000) }
    // Bare sockets that only look for their `joined`: the room's 265 MB of member_joined fan-out is not
    // parsed, nor checked as UTF-8, on the test's side.
    const sockets = await Promise.all(
      Array.from(
        { length: 515 },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(server.url, ['roomwire.v1'], { skipUTF8Validation: true })
            ws.once('error', reject)
            ws.once('open', () => ws.send(JSON.stringify({ type: 'join', room: 'big', presence })))
            const onMessage = (raw: Buffer) => {
              if (raw.subarray(0, 16).toString() !== '{"type":"joined"') return
              ws.off('message', onMessage)
              resolve(ws)
            }
            ws.on('message', onMessage)
          }),
      ),
    )
    try {
      await using newcomer = await server.connect()
      const sizes: number[] = []
      newcomer.ws.on('message', (raw: Buffer) => sizes.push(raw.length))
      newcomer.send({ type: 'join', room: 'big', presence })
      const joined = await newcomer.next('joined')
      expect(joined.more).toBe(true)
      await newcomer.next('members', (m) => m.more === undefined, 10_000)
      const list = memberList(fromJoined(newcomer, 'big'))
      expect(list).toHaveLength(516)
      expect(new Set(list.map((m) => m.id)).size).toBe(516)
      expect(list.every((m) => (m.presence as { bio: string }).bio.length === 2000)).toBe(true)
      // Every frame of the join is a page: far below the 1 MiB send buffer.
      expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024 + 2100)
      expect(newcomer.ws.readyState).toBe(WebSocket.OPEN)
      expect(await slowConsumers(server)).toMatch(/ 0$/m)
    } finally {
      for (const ws of sockets) ws.terminate()
    }
  }, 60_000)
})

describe('a replay larger than the send buffer', () => {
  it('is written as the socket drains to a reader that stops reading and resumes, with no 4008', async () => {
    await using server = await startTestServer({
      maxBufferedBytes: 256 * 1024,
      historyMaxBytes: 8 * 1024 * 1024,
      rateLimitPerSec: 0,
    })
    await using alice = await server.connect({ join: 'r' })
    const data = 'x'.repeat(60_000)
    await publishN(alice, 'r', 100, data)
    await using bob = await server.connect()
    pause(bob)
    bob.send({ type: 'join', room: 'r', history: 100 })
    // The room goes on while bob reads nothing: these wait in bob's join, and come after its replay.
    await vi.waitFor(async () => expect((await server.server.roomInfo('r'))?.memberCount).toBe(2))
    await publishN(alice, 'r', 5, 'live')
    resume(bob)
    await bob.next('message', (m) => m.seq === 105, 15_000)
    expect(bob.received('joined')[0]).toMatchObject({ seq: 100, replay: 100 })
    expect(bob.received('message').map((m) => m.seq)).toEqual(Array.from({ length: 105 }, (_, i) => i + 1))
    expect(bob.ws.readyState).toBe(WebSocket.OPEN)
    expect(await slowConsumers(server)).toMatch(/ 0$/m)
  }, 30_000)

  it('closes a reader that stops for longer than joinDrainTimeoutMs with 4008, and resumes with since', async () => {
    await using server = await startTestServer({
      maxBufferedBytes: 256 * 1024,
      historyMaxBytes: 8 * 1024 * 1024,
      joinDrainTimeoutMs: 300,
      closeTimeoutMs: 5000,
      rateLimitPerSec: 0,
    })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 100, 'x'.repeat(60_000))
    const bob = await server.connect()
    pause(bob)
    bob.send({ type: 'join', room: 'r', history: 100 })
    await vi.waitFor(async () => expect(await slowConsumers(server)).toMatch(/ 1$/m), { timeout: 5000 })
    // Its member is gone again: nobody keeps a ghost of the cut join.
    await vi.waitFor(async () => expect((await server.server.roomInfo('r'))?.memberCount).toBe(1))
    resume(bob)
    expect((await bob.closed).code).toBe(4008)
    const joined = bob.received('joined')[0]!
    const got = bob.received('message').map((m) => m.seq)
    expect(got.length).toBeLessThan(100)
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1))
    // joined came first, so the next connection asks only for the rest.
    await using again = await server.connect()
    again.send({ type: 'join', room: 'r', since: got.length, epoch: joined.epoch })
    await expect(again.next('joined')).resolves.toMatchObject({ recovered: true, replay: 100 - got.length })
    await again.next('message', (m) => m.seq === 100, 15_000)
    expect(again.received('message').map((m) => m.seq)).toEqual(
      Array.from({ length: 100 - got.length }, (_, i) => got.length + i + 1),
    )
  }, 30_000)
})

describe('what a pending join holds', () => {
  it('closes a joiner with 4008 once more than maxBufferedBytes arrived for it while its join waited', async () => {
    const adapter = heldJoinAdapter()
    await using server = await startTestServer({ adapter, maxBufferedBytes: 64 * 1024, rateLimitPerSec: 0 })
    const first = server.connect({ join: 'r' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    adapter.release()
    await using alice = await first
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    for (let i = 0; i < 4; i++) {
      await alice.request({ type: 'publish', room: 'r', event: 'e', data: 'x'.repeat(20_000) })
    }
    expect((await bob.closed).code).toBe(4008)
    adapter.release()
    // The join that outlived its socket leaves again: alice never keeps bob as a member.
    await vi.waitFor(async () => {
      expect((await server.server.roomInfo('r'))?.members).toEqual([{ id: alice.id }])
      expect(alice.received('member_left').map((m) => m.id)).toEqual(
        alice.received('member_joined').map((m) => m.member.id),
      )
    })
  })

  it('drops a reset to the epoch the joiner was just told about, and passes on one to another epoch', async () => {
    let node: AdapterNode | undefined
    const held = heldJoinAdapter()
    const adapter: RoomAdapter = {
      ...held,
      attach(n, config) {
        node = n
        return held.attach(n, config)
      },
    }
    await using server = await startTestServer({ adapter })
    const first = server.connect({ join: 'r' })
    await vi.waitFor(() => expect(held.waiting()).toBe(1))
    held.release()
    await using alice = await first
    const { epoch } = alice.received('joined')[0]!
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r' })
    await vi.waitFor(() => expect(held.waiting()).toBe(1))
    node!.deliver('r', { type: 'reset', room: 'r', epoch, seq: 0 })
    node!.deliver('r', { type: 'reset', room: 'r', epoch: 'e_later', seq: 0 })
    held.release()
    await expect(bob.next('reset')).resolves.toMatchObject({ epoch: 'e_later' })
    expect(bob.received('reset')).toHaveLength(1)
    expect(alice.received('reset')).toHaveLength(2)
  })
})
