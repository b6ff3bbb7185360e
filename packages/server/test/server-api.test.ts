import { describe, expect, it, vi } from 'vitest'
import { RoomServerError } from '../src/index'
import { startTestServer } from './helpers'
import { manualClock } from './manual-clock'

describe('server-side operations', () => {
  it('broadcasts to a room with a seq like any publish, from "server"', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    await alice.request({ type: 'publish', room: 'r', event: 'e', data: 1 })
    await expect(server.server.broadcast('r', 'notice', { a: 1 })).resolves.toEqual({ seq: 2 })
    await expect(alice.next('message', (m) => m.from === 'server')).resolves.toMatchObject({
      seq: 2,
      event: 'notice',
    })
  })

  it('refuses a broadcast to an invalid room or event name with a RoomServerError', async () => {
    await using server = await startTestServer()
    await expect(server.server.broadcast('a b', 'e', 1)).rejects.toBeInstanceOf(RoomServerError)
    await expect(server.server.broadcast('r', 'bad event', 1)).rejects.toMatchObject({
      code: 'invalid_argument',
    })
  })

  it('sends direct frames to all, to some, and to all but some connections', async () => {
    await using server = await startTestServer()
    await using a = await server.connect()
    await using b = await server.connect()
    await using c = await server.connect()
    await server.server.broadcastAll('hello', 1)
    await server.server.broadcastTo([a.id], 'only', 2)
    await server.server.broadcastExcept([a.id], 'except', 3)
    for (const client of [a, b, c]) await client.request({ type: 'ping' })
    expect(a.received('direct').map((m) => m.event)).toEqual(['hello', 'only'])
    expect(b.received('direct').map((m) => m.event)).toEqual(['hello', 'except'])
    expect(c.received('direct')[0]).toMatchObject({ from: 'server', data: 1, ts: expect.any(Number) })
  })

  it('sends a direct frame to one connection, and says false for an unknown one', async () => {
    await using server = await startTestServer()
    await using a = await server.connect()
    await expect(server.server.sendDirect(a.id, 'hi', null)).resolves.toBe(true)
    await expect(server.server.sendDirect('c_none', 'hi', null)).resolves.toBe(false)
    await expect(a.next('direct')).resolves.toMatchObject({ event: 'hi', data: null, from: 'server' })
  })

  it('reports room info, rooms and connections', async () => {
    await using server = await startTestServer({ authenticate: () => ({ user: 'u' }) })
    await using a = await server.connect({ join: 'x' })
    await using b = await server.connect({ join: 'y' })
    await expect(server.server.roomInfo('x')).resolves.toEqual({
      room: 'x',
      memberCount: 1,
      members: [{ id: a.id, user: 'u' }],
      seq: 0,
      epoch: expect.stringMatching(/^e_/),
    })
    await expect(server.server.roomInfo('never')).resolves.toBeNull()
    expect((await server.server.rooms()).sort()).toEqual(['x', 'y'])
    expect(
      server.server
        .connections()
        .map((c) => c.id)
        .sort(),
    ).toEqual([a.id, b.id].sort())
    expect(server.server.connections()[0]).toMatchObject({ user: 'u', remoteAddress: '127.0.0.1' })
  })

  it('disconnects one connection with the given code and reason', async () => {
    await using server = await startTestServer()
    await using a = await server.connect({ join: 'r' })
    await using b = await server.connect({ join: 'r' })
    expect(server.server.disconnect(b.id, 4003, 'banned')).toBe(true)
    await expect(b.closed).resolves.toEqual({ code: 4003, reason: 'banned' })
    await expect(a.next('member_left')).resolves.toMatchObject({ id: b.id })
    expect(server.server.disconnect('c_none')).toBe(false)
  })
})

describe('graceful shutdown', () => {
  it('tells every client with system, then closes them with 1001', async () => {
    const { server, connect } = await startTestServer({ shutdownSpreadMs: 50 })
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect({ join: 'r' })))
    await server.close({ timeoutMs: 2000 })
    for (const client of clients) {
      await expect(client.closed).resolves.toMatchObject({ code: 1001 })
      expect(client.received('system')[0]).toMatchObject({ code: 'shutdown' })
    }
    expect(server.connections()).toHaveLength(0)
  })

  it('spreads the closes over the spread window', async () => {
    const { server, connect } = await startTestServer({ shutdownSpreadMs: 200 })
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect()))
    const closedAt: number[] = []
    for (const client of clients) void client.closed.then(() => closedAt.push(Date.now()))
    await server.close({ timeoutMs: 2000 })
    await vi.waitFor(() => expect(closedAt).toHaveLength(4))
    expect(Math.max(...closedAt) - Math.min(...closedAt)).toBeGreaterThanOrEqual(150)
  })

  it('stops accepting new connections at once', async () => {
    const { server, url, connect } = await startTestServer({ shutdownSpreadMs: 300 })
    await connect()
    const closing = server.close({ timeoutMs: 1000 })
    const { TestClient } = await import('./helpers')
    const late = new TestClient(url)
    await expect(late.opened).rejects.toThrow()
    await closing
  })

  it('destroys connections that do not finish closing within the timeout, and resolves', async () => {
    const clock = manualClock()
    const { server, connect } = await startTestServer({ shutdownSpreadMs: 0, clock })
    const stuck = await connect()
    // A peer that stopped reading never answers the close frame.
    ;(stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    let resolved = false
    const closing = server.close({ timeoutMs: 200 }).then(() => {
      resolved = true
    })
    clock.advance(199)
    await Promise.resolve()
    expect(resolved).toBe(false)
    expect(server.connections()).toHaveLength(1)
    clock.advance(1)
    await closing
    expect(server.connections()).toHaveLength(0)
    ;(stuck.ws as unknown as { _socket: { resume(): void } })._socket.resume()
    await stuck.closed
  })

  it('can be called twice and resolves both times', async () => {
    const { server } = await startTestServer()
    await Promise.all([server.close(), server.close()])
    await expect(fetch(`http://127.0.0.1:${server.address()?.port ?? 1}/health`)).rejects.toThrow()
  })
})
