import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RoomwireError } from '../src/index'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
})

const published = (socket: FakeWebSocket) => socket.sentOfType('publish').map((m) => m.data)

describe('outbox', () => {
  it('holds publishes made before the connection opens and sends them in order after joined', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    const room = client.join('r')
    const results = [room.publish('e', 1), room.publish('e', 2), room.publish('e', 3)]
    expect(room.getSnapshot().pending.map((p) => p.status)).toEqual(['queued', 'queued', 'queued'])
    await flush()
    server.accept(FakeWebSocket.latest())
    expect(
      FakeWebSocket.latest()
        .messages()
        .map((m) => m.type),
    ).toEqual(['join', 'publish', 'publish', 'publish'])
    await expect(Promise.all(results)).resolves.toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }])
    expect(room.getSnapshot().pending).toEqual([])
    client.close()
  })

  it('waits for the room to be rejoined after a reconnect before sending', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    server.drop(FakeWebSocket.latest())
    const result = room.publish('e', 'while away')
    await flush(250)
    const types = FakeWebSocket.latest()
      .messages()
      .map((m) => m.type)
    expect(types).toEqual(['join', 'publish'])
    await expect(result).resolves.toEqual({ seq: 1 })
    client.close()
  })

  it('gives each publish an id and resends an unacknowledged one with the same id after rejoin', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    const first = FakeWebSocket.latest()
    server.silent.add(first)
    const result = room.publish('e', 'x')
    expect(room.getSnapshot().pending[0]?.status).toBe('sent')
    server.drop(first)
    expect(room.getSnapshot().pending[0]?.status).toBe('queued')
    await flush(250)
    const [original] = first.sentOfType('publish')
    const [resent] = FakeWebSocket.latest().sentOfType('publish')
    expect(typeof original?.id).toBe('string')
    expect(resent?.id).toBe(original?.id)
    await expect(result).resolves.toEqual({ seq: 1 })
    client.close()
  })

  it('a resend after a lost ack is not published twice', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    const socket = FakeWebSocket.latest()
    // The server publishes, but the ack is lost with the connection.
    const realReceive = socket.receive.bind(socket)
    socket.receive = (m) => {
      if ((m as { type?: string }).type !== 'ack') realReceive(m)
    }
    const result = room.publish('e', 'once', { id: 'm-1' })
    server.drop(socket)
    await flush(250)
    await expect(result).resolves.toEqual({ seq: 1 })
    expect(server.rooms.get('r')?.history.map((h) => h.data)).toEqual(['once'])
    client.close()
  })

  it('rejects with outbox_full past maxMessages', async () => {
    startFake()
    const client = fakeClient({ autoConnect: false, outbox: { maxMessages: 2 } })
    const room = client.join('r')
    void room.publish('e', 1).catch(() => {})
    void room.publish('e', 2).catch(() => {})
    await expect(room.publish('e', 3)).rejects.toMatchObject({ code: 'outbox_full' })
    client.close()
  })

  it('rejects with outbox_full past maxBytes', async () => {
    startFake()
    const client = fakeClient({ autoConnect: false, outbox: { maxBytes: 300 } })
    const room = client.join('r')
    void room.publish('e', 'x'.repeat(100)).catch(() => {})
    await expect(room.publish('e', 'y'.repeat(200))).rejects.toMatchObject({ code: 'outbox_full' })
    client.close()
  })

  it('frees outbox room as publishes are acknowledged', async () => {
    startFake()
    const client = fakeClient({ outbox: { maxMessages: 1 } })
    const room = client.join('r')
    await flush()
    await room.publish('e', 1)
    await expect(room.publish('e', 2)).resolves.toEqual({ seq: 2 })
    client.close()
  })

  it('refuses a message over maxMessageBytes locally with too_large and never sends it', async () => {
    const server = startFake()
    server.welcomeOverrides = { limits: { maxMessageBytes: 200, maxRoomsPerConnection: 10 } }
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    await expect(room.publish('e', 'é'.repeat(100))).rejects.toMatchObject({ code: 'too_large' })
    expect(FakeWebSocket.latest().sentOfType('publish')).toHaveLength(0)
    client.close()
  })

  it('refuses a queued message found too large once the limits are known', async () => {
    const server = startFake()
    server.welcomeOverrides = { limits: { maxMessageBytes: 200, maxRoomsPerConnection: 10 } }
    const client = fakeClient()
    const room = client.join('r')
    const big = room.publish('e', 'x'.repeat(500)).catch((e: unknown) => e)
    const small = room.publish('e', 'ok')
    await flush()
    expect(await big).toMatchObject({ code: 'too_large' })
    await expect(small).resolves.toEqual({ seq: 1 })
    expect(published(FakeWebSocket.latest())).toEqual(['ok'])
    client.close()
  })

  it('counts the ack timeout from the write to an open socket, not from publish()', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ ackTimeoutMs: 1_000 })
    const room = client.join('r')
    const result = room.publish('e', 1)
    const settled = vi.fn()
    result.then(settled, settled)
    await flush(5_000)
    expect(settled).not.toHaveBeenCalled()
    const socket = FakeWebSocket.latest()
    const realReceive = socket.receive.bind(socket)
    socket.receive = (m) => {
      if ((m as { type?: string }).type !== 'ack') realReceive(m)
    }
    server.accept(socket)
    await flush(999)
    expect(settled).not.toHaveBeenCalled()
    await flush(1)
    await expect(result).rejects.toMatchObject({ code: 'timeout' })
    expect(room.getSnapshot().pending).toEqual([])
    client.close()
  })

  it('rejects with the server error code when the server refuses a publish for good', async () => {
    startFake()
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    const socket = FakeWebSocket.latest()
    socket.onSend = (frame) => {
      const m = JSON.parse(frame)
      if (m.type === 'publish')
        socket.receive({ type: 'error', code: 'forbidden', message: 'not here', ref: m.ref })
    }
    const error = await room.publish('e', 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RoomwireError)
    expect(error).toMatchObject({ code: 'forbidden', message: 'not here' })
    client.close()
  })

  it('close() rejects every pending publish with closed', async () => {
    startFake()
    const client = fakeClient({ autoConnect: false })
    const room = client.join('r')
    const a = room.publish('e', 1)
    const b = room.publish('e', 2)
    client.close()
    await expect(a).rejects.toMatchObject({ code: 'closed' })
    await expect(b).rejects.toMatchObject({ code: 'closed' })
    await expect(room.ready).rejects.toMatchObject({ code: 'closed' })
  })

  it('a left room rejects its pending publishes with left', async () => {
    startFake()
    const client = fakeClient({ autoConnect: false, leaveGraceMs: 0 })
    const room = client.join('r')
    const result = room.publish('e', 1)
    room.leave()
    await expect(result).rejects.toMatchObject({ code: 'left' })
    await expect(room.publish('e', 2)).rejects.toMatchObject({ code: 'left' })
  })
})

describe('onMessage', () => {
  it('includes own publishes once, synthesized from the ack when echo was not requested', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    const seen: unknown[] = []
    const handlers: unknown[] = []
    room.onMessage((m) => seen.push([m.seq, m.data, m.own]))
    room.on('e', (data) => handlers.push(data))
    await flush()
    server.publish('r', 'e', 'theirs', 'c9')
    await room.publish('e', 'mine')
    server.publish('r', 'e', 'theirs again', 'c9')
    expect(seen).toEqual([
      [1, 'theirs', false],
      [2, 'mine', true],
      [3, 'theirs again', false],
    ])
    expect(handlers).toEqual(['theirs', 'theirs again'])
    client.close()
  })

  it('delivers an echoed publish once, to on() handlers too', async () => {
    startFake()
    const client = fakeClient()
    const room = client.join('r')
    const seen: unknown[] = []
    const handlers: unknown[] = []
    room.onMessage((m) => seen.push([m.seq, m.own]))
    room.on('e', (data, meta) => handlers.push([data, meta.own]))
    await flush()
    await room.publish('e', 'mine', { echo: true })
    expect(seen).toEqual([[1, true]])
    expect(handlers).toEqual([['mine', true]])
    client.close()
  })

  it('holds later messages until the ack of an own publish fills the gap', async () => {
    startFake()
    const client = fakeClient()
    const room = client.join('r')
    const seen: number[] = []
    room.onMessage((m) => seen.push(m.seq))
    await flush()
    const socket = FakeWebSocket.latest()
    let ref = 0
    socket.onSend = (frame) => {
      const m = JSON.parse(frame)
      if (m.type === 'publish') ref = m.ref
    }
    const result = room.publish('e', 'mine')
    socket.receive({ type: 'message', room: 'r', event: 'e', data: 'later', from: 'c9', seq: 2, ts: 1 })
    expect(seen).toEqual([])
    socket.receive({ type: 'ack', ref, seq: 1 })
    await result
    expect(seen).toEqual([1, 2])
    client.close()
  })

  it('delivers an own publish replayed after a reconnect once, though its ack came late', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    const seen: unknown[] = []
    room.onMessage((m) => seen.push([m.seq, m.data, m.own]))
    await flush()
    const socket = FakeWebSocket.latest()
    const realReceive = socket.receive.bind(socket)
    socket.receive = (m) => {
      if ((m as { type?: string }).type !== 'ack') realReceive(m)
    }
    const result = room.publish('e', 'mine')
    server.drop(socket)
    server.publish('r', 'e', 'theirs', 'c9')
    await flush(250)
    await result
    expect(seen).toEqual([
      [1, 'mine', true],
      [2, 'theirs', false],
    ])
    client.close()
  })
})

describe('direct', () => {
  it('sends to a connection id and resolves at the ack', async () => {
    startFake()
    const a = fakeClient()
    const b = fakeClient()
    const got: unknown[] = []
    b.onDirect('poke', (data, meta) => got.push([data, meta.from]))
    await flush()
    await a.direct(b.id!, 'poke', { n: 1 })
    expect(got).toEqual([[{ n: 1 }, 'c1']])
    a.close()
    b.close()
  })

  it('rejects with not_connected while no connection is open', async () => {
    startFake()
    const client = fakeClient({ autoConnect: false })
    await expect(client.direct('c2', 'poke', 1)).rejects.toMatchObject({ code: 'not_connected' })
  })

  it('rejects with the server code for an unknown target', async () => {
    startFake()
    const client = fakeClient()
    await flush()
    await expect(client.direct('nobody', 'poke', 1)).rejects.toMatchObject({ code: 'not_found' })
    client.close()
  })
})
