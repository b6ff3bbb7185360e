import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
})

describe('heartbeat', () => {
  it('sends a ping every welcome.heartbeat.interval from welcome', async () => {
    startFake()
    const client = fakeClient()
    await flush()
    const socket = FakeWebSocket.latest()
    await flush(29_999)
    expect(socket.sentOfType('ping')).toHaveLength(0)
    await flush(1)
    expect(socket.sentOfType('ping')).toHaveLength(1)
    await flush(30_000)
    expect(socket.sentOfType('ping')).toHaveLength(2)
    client.close()
  })

  it("takes a server's interval under 100 ms as 100 ms: a hostile welcome cannot make it spin", async () => {
    const server = startFake()
    server.welcomeOverrides = { heartbeat: { interval: 0.001, timeout: 10_000 } }
    const client = fakeClient()
    await flush()
    const socket = FakeWebSocket.latest()
    // Pongs come at once from the fake server; before, a 1 µs interval pinged on every timer tick.
    await flush(1_000)
    expect(socket.sentOfType('ping').length).toBeLessThanOrEqual(10)
    client.close()
  })

  it('uses its own shorter interval and timeout, never longer ones', async () => {
    startFake()
    const client = fakeClient({ heartbeat: { intervalMs: 1_000, timeoutMs: 60_000 } })
    await flush()
    const socket = FakeWebSocket.latest()
    await flush(1_000)
    expect(socket.sentOfType('ping')).toHaveLength(1)
    client.close()
  })

  it('drops the socket at once and reconnects when no frame arrives within the timeout after a ping', async () => {
    const server = startFake()
    const client = fakeClient()
    await flush()
    const socket = FakeWebSocket.latest()
    server.silent.add(socket)
    await flush(30_000 + 9_999)
    expect(client.status).toBe('open')
    await flush(1)
    expect(socket.readyState).toBeGreaterThanOrEqual(2)
    expect(client.getSnapshot().lastError?.code).toBe('heartbeat_timeout')
    expect(client.status).toBe('reconnecting')
    await flush(250)
    expect(client.status).toBe('open')
    expect(FakeWebSocket.instances).toHaveLength(2)
    client.close()
  })

  it('counts any frame as a sign of life, not only pong', async () => {
    const server = startFake()
    const client = fakeClient()
    client.join('r')
    await flush()
    const socket = FakeWebSocket.latest()
    server.silent.add(socket)
    await flush(30_000)
    socket.receive({ type: 'message', room: 'r', event: 'e', data: 1, from: 'x', seq: 1, ts: 1 })
    await flush(10_000)
    expect(client.status).toBe('open')
    client.close()
  })

  it('ignores everything a dropped socket still reports', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    const seen: unknown[] = []
    room.onMessage((m) => seen.push(m.seq))
    await flush()
    const socket = FakeWebSocket.latest()
    server.silent.add(socket)
    await flush(40_000)
    socket.receive({ type: 'message', room: 'r', event: 'e', data: 1, from: 'x', seq: 1, ts: 1 })
    socket.serverClose(1000)
    expect(seen).toEqual([])
    expect(client.getSnapshot().closeCode).toBe(1006)
    client.close()
  })
})
