import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, reconnectDefaults } from '../src/index'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

describe('backoffDelay', () => {
  it.each([
    [0, 500],
    [1, 1_000],
    [2, 2_000],
    [5, 16_000],
    [6, 30_000],
    [20, 30_000],
  ])('attempt %i has a bound of %i ms', (attempt, bound) => {
    expect(backoffDelay(attempt, reconnectDefaults, () => 1)).toBe(bound)
  })

  it('draws each delay uniformly below the bound (full jitter)', () => {
    expect(backoffDelay(3, reconnectDefaults, () => 0)).toBe(0)
    expect(backoffDelay(3, reconnectDefaults, () => 0.25)).toBe(1_000)
  })
})

describe('reconnect schedule', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
    FakeWebSocket.reset()
  })

  it('waits half of each doubling bound with random 0.5, capped at 30 s', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    const delays: number[] = []
    for (let i = 0; i < 9; i++) {
      FakeWebSocket.latest().serverClose(1006)
      const { retryAt, attempt } = client.getSnapshot()
      expect(attempt).toBe(i + 1)
      delays.push(retryAt! - Date.now())
      await flush(retryAt! - Date.now())
    }
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000])
    expect(FakeWebSocket.instances).toHaveLength(10)
    client.close()
  })

  it('keeps the attempt counter at welcome, so a server that closes right after it is backed off', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    FakeWebSocket.latest().serverClose(1006)
    expect(client.getSnapshot().attempt).toBe(2)
    await flush(500)
    FakeWebSocket.latest().welcome()
    expect(client.getSnapshot()).toMatchObject({ status: 'open', attempt: 2, retryAt: null })
    FakeWebSocket.latest().serverClose(1001)
    expect(client.getSnapshot().retryAt! - Date.now()).toBe(1_000)
    client.close()
  })

  it('restarts the attempt counter once a connection stayed open healthyAfterMs with its rooms joined', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    client.join('r')
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    FakeWebSocket.latest().serverClose(1006)
    await flush(500)
    server.accept(FakeWebSocket.latest())
    await flush(4_999)
    expect(client.getSnapshot().attempt).toBe(2)
    await flush(1)
    expect(client.getSnapshot().attempt).toBe(0)
    FakeWebSocket.latest().serverClose(1001)
    expect(client.getSnapshot().retryAt! - Date.now()).toBe(250)
    client.close()
  })

  it('does not count a connection as healthy while one of its rooms is not joined', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    const socket = FakeWebSocket.latest()
    let joinRef = 0
    server.accept(socket)
    socket.onSend = (frame) => {
      const m = JSON.parse(frame)
      if (m.type === 'join') joinRef = m.ref
    }
    client.join('r')
    await flush(10_000)
    expect(client.getSnapshot().attempt).toBe(1)
    socket.receive({ type: 'joined', room: 'r', seq: 0, epoch: 'e1', members: [], ref: joinRef })
    expect(client.getSnapshot().attempt).toBe(0)
    client.close()
  })

  it('honours healthyAfterMs', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ healthyAfterMs: 60_000 })
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    server.accept(FakeWebSocket.latest())
    await flush(59_999)
    expect(client.getSnapshot().attempt).toBe(1)
    await flush(1)
    expect(client.getSnapshot().attempt).toBe(0)
    client.close()
  })

  it('reports connecting before the first welcome and reconnecting after one', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    FakeWebSocket.latest().serverClose(1006)
    expect(client.status).toBe('connecting')
    await flush(250)
    FakeWebSocket.latest().welcome()
    FakeWebSocket.latest().serverClose(1006)
    expect(client.status).toBe('reconnecting')
    client.close()
  })

  it('stops with retries_exhausted after maxAttempts failed attempts', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ reconnect: { maxAttempts: 2 } })
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    FakeWebSocket.latest().serverClose(1006)
    await flush(500)
    FakeWebSocket.latest().serverClose(1006)
    expect(client.getSnapshot()).toMatchObject({ status: 'closed', retryAt: null })
    const { lastError } = client.getSnapshot()
    expect(lastError?.code).toBe('retries_exhausted')
    // Why it gave up stays in the error a UI shows, not only in the attempts' errors before it.
    expect(lastError?.message).toBe('gave up after 2 attempts: connection closed with 1006')
    expect(lastError?.cause).toMatchObject({ code: 'connection_lost' })
    expect(FakeWebSocket.instances).toHaveLength(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not reconnect at all with reconnect: false', async () => {
    startFake()
    const client = fakeClient({ reconnect: false })
    await flush()
    FakeWebSocket.latest().serverClose(1001)
    await flush(60_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(client.status).toBe('closed')
  })

  it('gives up on an attempt that never reaches welcome after connectTimeoutMs and backs off', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ connectTimeoutMs: 2_000 })
    await flush(1_999)
    expect(FakeWebSocket.latest().readyState).toBe(0)
    await flush(1)
    expect(FakeWebSocket.latest().readyState).toBeGreaterThanOrEqual(2)
    expect(client.getSnapshot()).toMatchObject({ status: 'connecting', attempt: 1 })
    expect(client.getSnapshot().lastError?.code).toBe('connect_timeout')
    await flush(250)
    expect(FakeWebSocket.instances).toHaveLength(2)
    client.close()
  })
})
