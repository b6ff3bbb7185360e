import { describe, expect, it, vi } from 'vitest'
import { failingJoinAdapter, heldJoinAdapter } from './adapter-doubles'
import { startTestServer, type TestClient } from './helpers'

/** Every member_joined a client saw has a member_left after it. */
function announcedAndGone(watcher: TestClient, id: string): void {
  const seen = watcher.messages.filter(
    (m) => (m.type === 'member_joined' && m.member.id === id) || (m.type === 'member_left' && m.id === id),
  )
  expect(seen.map((m) => m.type)).toEqual(seen.length === 0 ? [] : ['member_joined', 'member_left'])
}

describe('no ghost members after a failed join', () => {
  it('removes a member whose adapter join failed after adding it, and answers internal', async () => {
    const adapter = failingJoinAdapter()
    adapter.fail = false
    await using server = await startTestServer({ adapter })
    await using alice = await server.connect({ join: 'r' })
    adapter.fail = true
    await using bob = await server.connect()
    await expect(bob.request({ type: 'join', room: 'r' })).resolves.toMatchObject({
      type: 'error',
      code: 'internal',
    })
    await vi.waitFor(() => expect(alice.received('member_left')).toHaveLength(1))
    announcedAndGone(alice, bob.id)
    expect((await server.server.roomInfo('r'))?.members).toEqual([{ id: alice.id }])
    // Nothing is left on bob's side either: the same join succeeds once the adapter does.
    adapter.fail = false
    await expect(bob.request({ type: 'join', room: 'r' })).resolves.toMatchObject({ type: 'joined' })
    expect((await server.server.roomInfo('r'))?.memberCount).toBe(2)
  })

  it('removes a member whose socket closed while the adapter was joining it, before the connection', async () => {
    const held = heldJoinAdapter()
    const calls: string[] = []
    const adapter = {
      ...held,
      leave: (room: string, id: string) => {
        calls.push(`leave ${id}`)
        return held.leave(room, id)
      },
      removeConnection: (id: string) => {
        calls.push(`remove ${id}`)
        return held.removeConnection(id)
      },
    }
    await using server = await startTestServer({ adapter })
    const first = server.connect({ join: 'r' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    adapter.release()
    await using alice = await first
    const bob = await server.connect()
    bob.send({ type: 'join', room: 'r' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    await bob.close()
    await vi.waitFor(() => expect(server.server.connections()).toHaveLength(1))
    held.release()
    await vi.waitFor(async () =>
      expect((await server.server.roomInfo('r'))?.members).toEqual([{ id: alice.id }]),
    )
    await vi.waitFor(() => announcedAndGone(alice, bob.id))
    expect(await server.server.rooms()).toEqual(['r'])
    // The adapter is told the connection is gone only after it left the room it was joining.
    await vi.waitFor(() => expect(calls).toEqual([`leave ${bob.id}`, `remove ${bob.id}`]))
  })

  it('removes a member whose socket closed in the middle of its replay', async () => {
    await using server = await startTestServer({
      maxBufferedBytes: 64 * 1024,
      historyMaxBytes: 8 * 1024 * 1024,
      rateLimitPerSec: 0,
    })
    await using alice = await server.connect({ join: 'r' })
    for (let i = 0; i < 100; i++)
      await alice.request({ type: 'publish', room: 'r', event: 'e', data: 'x'.repeat(50_000) })
    const bob = await server.connect()
    ;(bob.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    bob.send({ type: 'join', room: 'r', history: 100 })
    await vi.waitFor(async () => expect((await server.server.roomInfo('r'))?.memberCount).toBe(2))
    bob.ws.terminate()
    await vi.waitFor(async () =>
      expect((await server.server.roomInfo('r'))?.members).toEqual([{ id: alice.id }]),
    )
    await vi.waitFor(() => announcedAndGone(alice, bob.id))
  })

  it('refuses a join into a full room without announcing or keeping anything', async () => {
    await using server = await startTestServer({ maxMembersPerRoom: 1 })
    await using alice = await server.connect({ join: 'r' })
    await using bob = await server.connect()
    await expect(bob.request({ type: 'join', room: 'r' })).resolves.toMatchObject({ code: 'room_full' })
    await expect(bob.request({ type: 'publish', room: 'r', event: 'e', data: 1 })).resolves.toMatchObject({
      code: 'not_joined',
    })
    expect(alice.received('member_joined')).toEqual([])
  })
})
