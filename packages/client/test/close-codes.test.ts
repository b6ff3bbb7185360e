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

async function openClient(options: Parameters<typeof fakeClient>[0] = {}) {
  const server = startFake()
  const client = fakeClient(options)
  await flush()
  expect(client.status).toBe('open')
  return { server, client }
}

describe('close codes', () => {
  it.each([1000, 1001, 1002, 1006, 1007, 1011, 1012, 4000, 4008, 4499])(
    '%i reconnects with jittered backoff',
    async (code) => {
      const { client } = await openClient()
      FakeWebSocket.latest().serverClose(code)
      expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', closeCode: code, attempt: 1 })
      expect(client.getSnapshot().retryAt! - Date.now()).toBe(250)
      await flush(250)
      expect(client.status).toBe('open')
      expect(FakeWebSocket.instances).toHaveLength(2)
      client.close()
    },
  )

  it.each([
    [4003, 'forbidden'],
    [4400, 'unsupported'],
    [4500, 'stopped'],
    [4999, 'stopped'],
  ])('%i stops with %s and leaves no timer', async (code, error) => {
    const { client } = await openClient()
    FakeWebSocket.latest().serverClose(code)
    expect(client.getSnapshot()).toMatchObject({ status: 'closed', closeCode: code, retryAt: null })
    expect(client.getSnapshot().lastError?.code).toBe(error)
    expect(vi.getTimerCount()).toBe(0)
    await flush(120_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('4001 with a fixed token stops with status unauthorized at once', async () => {
    const { client } = await openClient({ token: 'expired' })
    FakeWebSocket.latest().serverClose(4001)
    expect(client.getSnapshot()).toMatchObject({ status: 'unauthorized', closeCode: 4001 })
    expect(client.getSnapshot().lastError?.code).toBe('unauthorized')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('4001 calls the token function once more and reconnects with the new token', async () => {
    let n = 0
    const { client } = await openClient({ token: () => `t${++n}` })
    FakeWebSocket.latest().serverClose(4001)
    await flush()
    expect(n).toBe(2)
    expect(new URL(FakeWebSocket.latest().url).searchParams.get('token')).toBe('t2')
    expect(client.status).toBe('open')
    client.close()
  })

  it('a second 4001 right after the refresh stops with unauthorized', async () => {
    const server = startFake()
    server.autoAccept = false
    let n = 0
    const client = fakeClient({ token: async () => `t${++n}` })
    await flush()
    FakeWebSocket.latest().serverClose(4001)
    await flush()
    FakeWebSocket.latest().serverClose(4001)
    await flush(60_000)
    expect(n).toBe(2)
    expect(client.status).toBe('unauthorized')
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a server that welcomes and then closes 4001 each time is retried with the backoff, not at once', async () => {
    let n = 0
    const { client } = await openClient({ token: () => `t${++n}` })
    // The first 4001 after a healthy connection refreshes at once; each welcome restarts the refresh, but
    // not the backoff: before, this was 120 reconnects and token fetches a second, forever.
    FakeWebSocket.latest().serverClose(4001)
    await flush()
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(client.status).toBe('open')
    FakeWebSocket.latest().serverClose(4001)
    await flush()
    expect(FakeWebSocket.instances).toHaveLength(2)
    const firstWait = client.getSnapshot().retryAt! - Date.now()
    expect(firstWait).toBeGreaterThan(0)
    await flush(firstWait)
    expect(FakeWebSocket.instances).toHaveLength(3)
    FakeWebSocket.latest().serverClose(4001)
    await flush()
    expect(client.getSnapshot().retryAt! - Date.now()).toBeGreaterThan(firstWait)
    expect(n).toBe(3)
    client.close()
  })

  it('4001 stops when the token function fails on the refresh', async () => {
    let n = 0
    const { client } = await openClient({
      token: () => {
        if (++n > 1) throw new Error('session gone')
        return 't1'
      },
    })
    FakeWebSocket.latest().serverClose(4001)
    await flush(60_000)
    expect(client.status).toBe('unauthorized')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('1008 reconnects, but three in a row without a welcome stop the client', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    FakeWebSocket.latest().serverClose(1008)
    await flush(250)
    FakeWebSocket.latest().serverClose(1008)
    expect(client.status).toBe('connecting')
    await flush(500)
    FakeWebSocket.latest().serverClose(1008)
    expect(client.getSnapshot().lastError?.code).toBe('policy')
    expect(client.status).toBe('closed')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a welcome between 1008 closes resets the count', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    FakeWebSocket.latest().serverClose(1008)
    await flush(250)
    FakeWebSocket.latest().serverClose(1008)
    await flush(500)
    FakeWebSocket.latest().welcome()
    FakeWebSocket.latest().serverClose(1008)
    await flush(250)
    FakeWebSocket.latest().serverClose(1008)
    expect(client.status).toBe('reconnecting')
    client.close()
  })

  it('1013 backs off longer than the usual schedule', async () => {
    const { client } = await openClient()
    FakeWebSocket.latest().serverClose(1013)
    expect(client.getSnapshot().retryAt! - Date.now()).toBe(5_250)
    await flush(5_249)
    expect(FakeWebSocket.instances).toHaveLength(1)
    await flush(1)
    expect(FakeWebSocket.instances).toHaveLength(2)
    client.close()
  })

  it('1009 drops the largest publish in flight, then reconnects and resends the rest', async () => {
    const { server, client } = await openClient()
    const room = client.join('r')
    await flush()
    const silent = FakeWebSocket.latest()
    server.silent.add(silent)
    const small = room.publish('e', 'x')
    const big = room.publish('e', 'x'.repeat(1_000))
    server.silent.delete(silent)
    server.drop(silent, 1009)
    await expect(big).rejects.toMatchObject({ code: 'too_large' })
    await flush(250)
    await expect(small).resolves.toEqual({ seq: 1 })
    client.close()
  })

  it('4008 reconnects and rejoins with since and epoch', async () => {
    const { server, client } = await openClient()
    client.join('r')
    await flush()
    server.publish('r', 'e', 1)
    FakeWebSocket.latest().serverClose(4008)
    await flush(250)
    expect(FakeWebSocket.latest().sentOfType('join')[0]).toMatchObject({ room: 'r', since: 1, epoch: 'e1' })
    client.close()
  })
})

describe('error events', () => {
  it('a routine drop is state only, a final stop is also an error event', async () => {
    const { client } = await openClient()
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    FakeWebSocket.latest().serverClose(1006)
    expect(client.getSnapshot().lastError?.code).toBe('connection_lost')
    expect(errors).toEqual([])
    await flush(250)
    FakeWebSocket.latest().serverClose(4003)
    expect(errors).toEqual(['forbidden'])
  })
})
