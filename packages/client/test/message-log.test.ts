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

const texts = (log: { getSnapshot(): readonly { data: unknown; status: string }[] }) =>
  log.getSnapshot().map((m) => `${String(m.data)}:${m.status}`)

async function withHistory(count: number, options: Parameters<typeof fakeClient>[0] = {}) {
  const server = startFake()
  for (let i = 1; i <= count; i++) server.publish('r', 'e', `old ${i}`, 'c9', `m${i}`)
  const client = fakeClient(options)
  const room = client.join('r', { history: count })
  await flush()
  await room.ready
  return { server, client, room }
}

describe('room.messageLog()', () => {
  it('made after the join, lists the whole history the join replayed', async () => {
    const { client, room } = await withHistory(30)
    // Nothing subscribed while `joined` and its replay arrived.
    const log = room.messageLog()
    expect(log.getSnapshot()).toHaveLength(30)
    expect(log.getSnapshot()[0]).toMatchObject({
      key: 'm1',
      seq: 1,
      data: 'old 1',
      status: 'received',
      from: 'c9',
    })
    client.close()
  })

  it('starts with at most recentMessages of what came before it, then keeps up to its limit', async () => {
    const { server, client, room } = await withHistory(0, { recentMessages: 2 })
    for (let i = 1; i <= 5; i++) server.publish('r', 'e', `live ${i}`)
    const log = room.messageLog({ limit: 3 })
    expect(texts(log)).toEqual(['live 4:received', 'live 5:received'])
    server.publish('r', 'e', 'new 1')
    server.publish('r', 'e', 'new 2')
    expect(texts(log)).toEqual(['live 5:received', 'new 1:received', 'new 2:received'])
    client.close()
  })

  it('keeps at least the join history for logs made later, whatever recentMessages says', async () => {
    const { client, room } = await withHistory(5, { recentMessages: 0 })
    expect(room.messageLog().getSnapshot()).toHaveLength(5)
    client.close()
  })

  it('returns the same log for the same options', async () => {
    const { client, room } = await withHistory(0)
    expect(room.messageLog({ limit: 5, events: ['e'] })).toBe(room.messageLog({ limit: 5, events: ['e'] }))
    expect(room.messageLog({ limit: 5 })).not.toBe(room.messageLog({ limit: 6 }))
    client.close()
  })

  it('lists only the events asked for', async () => {
    const { server, client, room } = await withHistory(0)
    const log = room.messageLog({ events: ['chat'] })
    server.publish('r', 'typing', 'ada')
    server.publish('r', 'chat', 'hi')
    expect(texts(log)).toEqual(['hi:received'])
    client.close()
  })

  it('lists an own message as sending, then delivered under the same key, the id it was published with', async () => {
    const { client, room } = await withHistory(0)
    const socket = FakeWebSocket.latest()
    const handle = socket.onSend
    const held: string[] = []
    socket.onSend = (frame) => held.push(frame)
    const log = room.messageLog()
    const sent = log.send('e', 'mine')
    const [sending] = log.getSnapshot()
    expect(sending).toMatchObject({ status: 'sending', own: true, seq: null, from: null })
    const [published] = FakeWebSocket.latest().sentOfType('publish')
    expect(sending?.key).toBe(published?.id)
    for (const frame of held) handle?.(frame)
    await sent
    expect(log.getSnapshot()).toMatchObject([{ key: sending?.key, status: 'delivered', seq: 1, from: 'c1' }])
    client.close()
  })

  it('shows a refused send as failed with the clock time, retries it, and dismisses another', async () => {
    const { client, room } = await withHistory(0)
    const socket = FakeWebSocket.latest()
    const handle = socket.onSend
    let refuse = 2
    socket.onSend = (frame) => {
      const m = JSON.parse(frame)
      if (m.type === 'publish' && refuse-- > 0) {
        socket.receive({ type: 'error', code: 'forbidden', message: 'no', ref: m.ref })
        return
      }
      handle?.(frame)
    }
    const log = room.messageLog()
    await log.send('e', 'one')
    await log.send('e', 'two')
    expect(log.getSnapshot()).toMatchObject([
      { status: 'failed', ts: Date.now(), error: { code: 'forbidden' } },
      { status: 'failed' },
    ])
    const [one, two] = log.getSnapshot()
    log.dismiss(two!.key)
    log.retry(one!.key)
    await flush()
    expect(texts(log)).toEqual(['one:delivered'])
    client.close()
  })

  it('never rejects from send, even for an invalid or unserializable payload', async () => {
    const { client, room } = await withHistory(0)
    const log = room.messageLog()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(log.send('e', cyclic)).resolves.toBeUndefined()
    expect(log.getSnapshot()).toMatchObject([{ status: 'failed', error: { code: 'bad_request' } }])
    client.close()
  })

  it('gives frozen snapshots that keep their identity until an entry changed', async () => {
    const { server, client, room } = await withHistory(2)
    const log = room.messageLog({ events: ['e'] })
    const first = log.getSnapshot()
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen(first[0])).toBe(true)
    FakeWebSocket.latest().receive({ type: 'member_joined', room: 'r', member: { id: 'c7' } })
    void room.publish('other', 'not listed')
    expect(log.getSnapshot()).toBe(first)
    server.publish('r', 'e', 'new')
    const next = log.getSnapshot()
    expect(next).not.toBe(first)
    expect(next[0]).toBe(first[0])
    client.close()
  })

  it('notifies its subscribers when a message arrives and when a send fails', async () => {
    const { server, client, room } = await withHistory(0)
    const log = room.messageLog()
    const listener = vi.fn()
    const stop = log.subscribe(listener)
    server.publish('r', 'e', 1)
    expect(listener).toHaveBeenCalled()
    listener.mockClear()
    await log.send('e', 'x'.repeat(70_000))
    expect(listener).toHaveBeenCalled()
    stop()
    listener.mockClear()
    server.publish('r', 'e', 2)
    expect(listener).not.toHaveBeenCalled()
    client.close()
  })

  it('keeps keys unique across an epoch change for messages without an id', async () => {
    const { server, client, room } = await withHistory(0)
    const log = room.messageLog()
    server.publish('r', 'e', 'before')
    server.resetRoom('r', true)
    server.publish('r', 'e', 'after')
    const keys = log.getSnapshot().map((m) => m.key)
    expect(keys).toHaveLength(2)
    expect(new Set(keys).size).toBe(2)
    client.close()
  })
})
