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
 * Answer the first `count` frames of `type` with `error` `code` instead of letting the fake server have
 * them; later ones reach it. Returns the frames refused.
 */
function refuse(socket: FakeWebSocket, type: string, code: string, count: number) {
  const refused: Array<Record<string, unknown>> = []
  const handle = socket.onSend
  socket.onSend = (frame) => {
    const m = JSON.parse(frame)
    if (m.type === type && refused.length < count) {
      refused.push(m)
      socket.receive({ type: 'error', code, message: `refused: ${code}`, ref: m.ref, room: m.room })
      return
    }
    handle?.(frame)
  }
  return refused
}

async function open() {
  const server = startFake()
  const client = fakeClient()
  await flush()
  return { server, client, socket: FakeWebSocket.latest() }
}

describe('retryable refusals: publish', () => {
  it.each(['unavailable', 'rate_limited'])(
    'a publish refused with %s stays queued and is sent again with the same id after a jittered backoff',
    async (code) => {
      const { server, client, socket } = await open()
      const room = client.join('r')
      await flush()
      const refused = refuse(socket, 'publish', code, 1)
      const result = room.publish('e', 'hello')
      expect(refused).toHaveLength(1)
      expect(room.getSnapshot().pending).toMatchObject([{ status: 'queued' }])
      // random 0.5: half of the first bound (500 ms).
      await flush(249)
      expect(socket.sentOfType('publish')).toHaveLength(1)
      await flush(1)
      const sent = socket.sentOfType('publish')
      expect(sent).toHaveLength(2)
      expect(sent[1]?.id).toBe(sent[0]?.id)
      await expect(result).resolves.toEqual({ seq: 1 })
      expect(server.rooms.get('r')?.history.map((h) => h.data)).toEqual(['hello'])
      client.close()
    },
  )

  it('backs off longer after each refusal in a row, and from the start again after an ack', async () => {
    const { client, socket } = await open()
    const room = client.join('r')
    await flush()
    refuse(socket, 'publish', 'unavailable', 3)
    const first = room.publish('e', 1)
    const writes = () => socket.sentOfType('publish').length
    await flush(250)
    expect(writes()).toBe(2)
    await flush(499)
    expect(writes()).toBe(2)
    await flush(1)
    expect(writes()).toBe(3)
    await flush(1_000)
    expect(writes()).toBe(4)
    await expect(first).resolves.toEqual({ seq: 1 })
    refuse(socket, 'publish', 'unavailable', 1)
    void room.publish('e', 2)
    await flush(250)
    expect(writes()).toBe(6)
    client.close()
  })

  it('keeps the publishes after a refused one in order: nothing is written while the backoff runs', async () => {
    const { client, socket } = await open()
    const room = client.join('r')
    await flush()
    refuse(socket, 'publish', 'rate_limited', 1)
    const results = [room.publish('e', 'a'), room.publish('e', 'b')]
    expect(socket.sentOfType('publish').map((m) => m.data)).toEqual(['a'])
    await flush(250)
    expect(socket.sentOfType('publish').map((m) => m.data)).toEqual(['a', 'a', 'b'])
    await expect(Promise.all(results)).resolves.toEqual([{ seq: 1 }, { seq: 2 }])
    client.close()
  })

  it('settles a publish refused again and again with the refusal once its ack deadline passed', async () => {
    const { client, socket } = await open()
    const room = client.join('r')
    await flush()
    refuse(socket, 'publish', 'unavailable', Number.POSITIVE_INFINITY)
    const result = room.publish('e', 'x', { timeoutMs: 3_000 })
    const settled = vi.fn()
    result.then(settled, settled)
    await flush(2_999)
    expect(settled).not.toHaveBeenCalled()
    await flush(1)
    await expect(result).rejects.toMatchObject({ code: 'unavailable' })
    expect(room.getSnapshot().pending).toEqual([])
    expect(vi.getTimerCount()).toBe(2) // the heartbeat ping and the health wait, nothing of the publish
    client.close()
  })

  it('a refused publish goes out on the next connection at once, without waiting for the backoff', async () => {
    const { server, client, socket } = await open()
    const room = client.join('r')
    await flush()
    refuse(socket, 'publish', 'unavailable', 1)
    const result = room.publish('e', 'x')
    server.drop(socket, 1012)
    await flush(250)
    expect(FakeWebSocket.latest().sentOfType('publish')).toHaveLength(1)
    await expect(result).resolves.toEqual({ seq: 1 })
    client.close()
  })
})

describe('retryable refusals: join', () => {
  it('a join refused with unavailable is sent again with backoff and the room joins', async () => {
    const { client, socket } = await open()
    refuse(socket, 'join', 'unavailable', 2)
    const room = client.join('r')
    await flush()
    // Still joining (not a final refusal), and the snapshot says why, so a UI can show it.
    expect(room.getSnapshot()).toMatchObject({ status: 'joining', error: { code: 'unavailable' } })
    await flush(250)
    expect(socket.sentOfType('join')).toHaveLength(2)
    expect(room.status).toBe('joining')
    await flush(500)
    expect(socket.sentOfType('join')).toHaveLength(3)
    await room.ready
    expect(room.getSnapshot()).toMatchObject({ status: 'joined', error: null })
    client.close()
  })

  it('a publish made while the join is retried is sent once the room joined', async () => {
    const { client, socket } = await open()
    refuse(socket, 'join', 'unavailable', 1)
    const room = client.join('r')
    await flush()
    const result = room.publish('e', 'waiting')
    await flush(250)
    await expect(result).resolves.toEqual({ seq: 1 })
    client.close()
  })

  it('a join refused for good puts the room in error, and a later publish rejects at once', async () => {
    const { client, socket } = await open()
    refuse(socket, 'join', 'forbidden', 1)
    const room = client.join('r')
    await flush()
    await expect(room.ready).rejects.toMatchObject({ code: 'forbidden' })
    expect(room.getSnapshot()).toMatchObject({ status: 'error', error: { code: 'forbidden' } })
    await expect(room.publish('e', 'x')).rejects.toMatchObject({ code: 'forbidden' })
    await expect(room.setPresence({})).rejects.toMatchObject({ code: 'forbidden' })
    await flush(60_000)
    expect(socket.sentOfType('join')).toHaveLength(1)
    client.close()
  })

  it('a join retry waiting when the connection drops is replaced by the rejoin at the next welcome', async () => {
    const { server, client, socket } = await open()
    refuse(socket, 'join', 'unavailable', 1)
    const room = client.join('r')
    await flush()
    server.drop(socket)
    await flush(250)
    expect(socket.sentOfType('join')).toHaveLength(1)
    expect(FakeWebSocket.latest().sentOfType('join')).toHaveLength(1)
    await room.ready
    await flush(10_000)
    expect(FakeWebSocket.latest().sentOfType('join')).toHaveLength(1)
    client.close()
  })
})

describe('nothing outlives close()', () => {
  it('a join retry or a publish retry waiting at close() leaves no timer', async () => {
    startFake()
    const client = fakeClient()
    await flush()
    const socket = FakeWebSocket.latest()
    const handle = socket.onSend
    socket.onSend = (frame) => {
      const m = JSON.parse(frame)
      if (m.type === 'join' && m.room === 'a') {
        socket.receive({ type: 'error', code: 'unavailable', message: 'later', ref: m.ref })
      } else if (m.type === 'publish') {
        socket.receive({ type: 'error', code: 'rate_limited', message: 'later', ref: m.ref })
      } else handle?.(frame)
    }
    client.join('a')
    const b = client.join('b')
    await flush()
    const result = b.publish('e', 1)
    client.close()
    await expect(result).rejects.toMatchObject({ code: 'closed' })
    expect(vi.getTimerCount()).toBe(0)
  })
})
