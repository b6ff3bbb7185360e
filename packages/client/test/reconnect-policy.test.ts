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

/**
 * A server that accepts and says `welcome`, then closes with `code` right away, or at the first join;
 * `code` null: it never answers a join.
 */
function closingServer(code: number | null, when: 'welcome' | 'join') {
  startFake()
  let n = 0
  FakeWebSocket.onCreate = (socket) => {
    socket.onSend = (frame) => {
      if (code !== null && JSON.parse(frame).type === 'join') socket.serverClose(code)
    }
    socket.welcome(`c${++n}`)
    if (when === 'welcome' && code !== null) socket.serverClose(code)
  }
}

describe('reconnect policy against a server that closes right after welcome', () => {
  it.each([1008, 4008, 1011])(
    '%i after each welcome backs off exponentially instead of looping',
    async (code) => {
      closingServer(code, 'welcome')
      const client = fakeClient()
      await flush(60_000)
      // random 0.5: 250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000 ms... about 11 in a minute, where
      // a reset at each welcome made it 240 (one every 250 ms).
      expect(FakeWebSocket.instances.length).toBeLessThanOrEqual(11)
      expect(client.getSnapshot().attempt).toBeGreaterThanOrEqual(9)
      client.close()
    },
  )

  it('keeps 1008 retrying while each attempt reaches welcome (the close-code table), at the capped backoff', async () => {
    closingServer(1008, 'welcome')
    const client = fakeClient()
    await flush(300_000)
    expect(client.status).toBe('reconnecting')
    expect(client.getSnapshot().retryAt! - Date.now()).toBeLessThanOrEqual(15_000)
    client.close()
  })

  it('a joined too big for the server buffer (4008 at the join) costs 6 connections in 10 s, not 42', async () => {
    closingServer(4008, 'join')
    const client = fakeClient()
    client.join('big')
    await flush(10_000)
    // 0, 250, 750, 1750, 3750, 7750 ms.
    expect(FakeWebSocket.instances).toHaveLength(6)
    client.close()
  })

  it('a connection that stays up but whose rooms never join does not restart the backoff', async () => {
    closingServer(null, 'join')
    const client = fakeClient()
    client.join('r')
    await flush()
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    await flush(30_000)
    FakeWebSocket.latest().serverClose(1006)
    expect(client.getSnapshot().attempt).toBe(2)
    client.close()
  })
})
