import { Socket } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startTestServer, type TestClient } from './helpers'
import { manualClock } from './manual-clock'

// Every frame a socket gets in one event-loop turn is corked and written once when the turn ends, as
// uWebSockets does (frames.ts, WriteCoalescer): at 1,000 members the write syscalls were most of the
// server's fan-out CPU (issue 20). Corked bytes count in `bufferedAmount` until then, so whatever paces
// itself on that buffer must not mistake them for a slow reader.

/** Counts the writes (syscall batches) of every server-side socket, by the client's port. */
function serverWrites(): Map<number, number> {
  const writes = new Map<number, number>()
  for (const method of ['_write', '_writev'] as const) {
    const original = Socket.prototype[method] as (...args: unknown[]) => unknown
    vi.spyOn(Socket.prototype, method).mockImplementation(function (this: Socket, ...args: unknown[]) {
      if ((this as { server?: unknown }).server !== undefined && this.remotePort !== undefined) {
        writes.set(this.remotePort, (writes.get(this.remotePort) ?? 0) + 1)
      }
      return original.apply(this, args)
    })
  }
  return writes
}

const portOf = (client: { ws: unknown }) => (client.ws as { _socket: Socket })._socket.localPort!

describe('corked writes', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('write a fan-out burst of one turn with one write per member socket', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    const members = await Promise.all(Array.from({ length: 20 }, () => server.connect({ join: 'r' })))
    const writes = serverWrites()
    // Ten broadcasts started in one turn: each member gets ten frames before the turn ends.
    const broadcasts = Array.from({ length: 10 }, (_, i) => server.server.broadcast('r', 'e', i))
    await Promise.all(broadcasts)
    for (const member of members) {
      await vi.waitFor(() => expect(member.received('message')).toHaveLength(10))
      expect(member.received('message').map((m) => m.data)).toEqual([...Array(10).keys()])
    }
    // The first frame of the turn too: writing it at once made two writes for each member.
    expect(members.map((member) => writes.get(portOf(member)))).toEqual(members.map(() => 1))
    await Promise.all(members.map((member) => member.close()))
  })

  it("send the upgrade's 101 response and the welcome in one write", async () => {
    await using server = await startTestServer()
    const writes = serverWrites()
    const client = await server.connect()
    // Two before: ws wrote the 101 at once and the welcome left at the end of the turn.
    expect(writes.get(portOf(client))).toBe(1)
    expect(client.received('welcome')).toHaveLength(1)
  })

  it('let a paced join larger than half the send buffer finish without waiting on its own corked frames', async () => {
    // A clock that never moves: the paced writer's drain poll never fires, so the join completes only
    // if it hands its corked frames to the kernel instead of waiting for them to leave at the turn's end.
    const clock = manualClock()
    await using server = await startTestServer({ clock, maxBufferedBytes: 16 * 1024, rateLimitPerSec: 0 })
    const presence = { bio: 'p'.repeat(1500) }
    const members: TestClient[] = []
    for (let i = 0; i < 12; i++) {
      const client = await server.connect()
      client.send({ type: 'join', room: 'r', presence })
      await client.next('joined')
      members.push(client)
    }
    // The last joiner's list, twelve 1.5 KB members: about 19 KB of member pages, over the 8 KB the paced
    // writer keeps in the buffer.
    const last = members.at(-1)!
    const listed = () =>
      last.messages
        .flatMap((m) =>
          m.type === 'joined' || m.type === 'members' ? m.members.map((member) => member.id) : [],
        )
        .sort()
    await vi.waitFor(() => expect(listed()).toEqual(members.map((m) => m.id).sort()))
    expect(last.messages.filter((m) => m.type === 'members').length).toBeGreaterThan(1)
    expect((await server.server.roomInfo('r'))?.memberCount).toBe(12)
    expect(await server.server.metrics.getSingleMetricAsString('roomwire_slow_consumers_total')).toMatch(
      / 0$/m,
    )
    await Promise.all(members.map((member) => member.close()))
  })
})
