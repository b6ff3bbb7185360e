import { SUBPROTOCOL } from '@roomwire/protocol'
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

describe('client basics', () => {
  it('connects at once, offers roomwire.v1 and is open after welcome', async () => {
    startFake()
    const client = fakeClient()
    expect(client.status).toBe('connecting')
    expect(FakeWebSocket.latest().protocols).toBe(SUBPROTOCOL)
    await flush()
    expect(client.getSnapshot()).toMatchObject({ status: 'open', id: 'c1', attempt: 0, retryAt: null })
    client.close()
  })

  it('sends the token as a query parameter', async () => {
    startFake()
    const client = fakeClient({ token: 'secret token' })
    expect(new URL(FakeWebSocket.latest().url).searchParams.get('token')).toBe('secret token')
    client.close()
  })

  it('joins a room, publishes and receives the ack seq', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('general')
    await flush()
    await room.ready
    expect(room.getSnapshot()).toMatchObject({ status: 'joined', seq: 0, epoch: 'e1' })
    expect(room.members).toEqual([{ id: 'c1' }])
    await expect(room.publish('chat', { text: 'hi' })).resolves.toEqual({ seq: 1 })
    expect(server.rooms.get('general')?.history[0]).toMatchObject({ data: { text: 'hi' }, from: 'c1' })
    client.close()
  })

  it('delivers messages from others to on() handlers with meta', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('general')
    const seen: unknown[] = []
    room.on('chat', (data, meta) => seen.push([data, meta]))
    await flush()
    server.publish('general', 'chat', { text: 'yo' }, 'c9', 'm1')
    expect(seen).toEqual([
      [{ text: 'yo' }, { from: 'c9', seq: 1, epoch: 'e1', ts: 1001, id: 'm1', own: false }],
    ])
    client.close()
  })
})

describe('socket errors', () => {
  it('ends an attempt whose socket reports an error but never a close (Node 20 undici)', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    FakeWebSocket.latest().onerror?.({})
    await flush()
    expect(client.getSnapshot()).toMatchObject({ status: 'connecting', attempt: 1, closeCode: 1006 })
    await flush(250)
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(FakeWebSocket.live()).toBe(1)
    client.close()
  })
})
