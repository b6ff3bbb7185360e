import { vi } from 'vitest'
import { type ClientOptions, createClient } from '../../src/index'
import { FakeServer } from './fake-server'
import { FakeWebSocket } from './fake-web-socket'

/** Run queued microtasks and timers due now (the fake server answers in microtasks). */
export async function flush(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

/** A client on FakeWebSocket with seeded jitter (random 0.5: each delay is half its bound). */
export function fakeClient(options: Partial<ClientOptions> = {}) {
  return createClient({
    url: 'ws://test.invalid/ws',
    WebSocket: FakeWebSocket,
    random: () => 0.5,
    logger: { error: () => {} },
    ...options,
  })
}

export function startFake(): FakeServer {
  FakeWebSocket.reset()
  return new FakeServer()
}
