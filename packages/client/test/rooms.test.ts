import { defineProtocol } from '@roomwire/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
})

async function joined(name = 'r', options: Parameters<typeof fakeClient>[0] = {}) {
  const server = startFake()
  const client = fakeClient(options)
  const room = client.join(name)
  const seqs: number[] = []
  room.onMessage((m) => seqs.push(m.seq))
  await flush()
  await room.ready
  return { server, client, room, seqs }
}

describe('rooms', () => {
  it('returns the same handle for the same name while held', async () => {
    const { client, room } = await joined()
    expect(client.join('r')).toBe(room)
    client.close()
  })

  it('sends leave only after the last holder left and the grace period passed', async () => {
    const { client, room } = await joined()
    client.join('r')
    room.leave()
    room.leave()
    await flush(499)
    expect(FakeWebSocket.latest().sentOfType('leave')).toHaveLength(0)
    await flush(1)
    expect(FakeWebSocket.latest().sentOfType('leave')).toEqual([{ type: 'leave', room: 'r', ref: 2 }])
    expect(room.status).toBe('left')
    expect(client.join('r')).not.toBe(room)
    client.close()
  })

  it('a re-join within the grace period costs nothing on the wire', async () => {
    const { client, room } = await joined()
    room.leave()
    await flush(100)
    expect(client.join('r')).toBe(room)
    await flush(1_000)
    const socket = FakeWebSocket.latest()
    expect(socket.sentOfType('leave')).toHaveLength(0)
    expect(socket.sentOfType('join')).toHaveLength(1)
    client.close()
  })

  it('merges the options of every holder that joins in the same tick into one join', async () => {
    startFake()
    const client = fakeClient()
    await flush()
    // Effects run children first: a child without options joins before the parent that passes them.
    const room = client.join('r')
    client.join('r', { history: 20, presence: { name: 'Ada' } })
    client.join('r', { history: 5, presence: { name: 'ignored' } })
    await flush()
    await room.ready
    expect(FakeWebSocket.latest().sentOfType('join')).toEqual([
      { type: 'join', room: 'r', presence: { name: 'Ada' }, history: 20, ref: 1 },
    ])
    client.close()
  })

  it('ignores the options of a later holder once the join is on the wire', async () => {
    const { client, room } = await joined()
    client.join('r', { history: 50 })
    await flush()
    expect(FakeWebSocket.latest().sentOfType('join')).toHaveLength(1)
    room.leave()
    client.close()
  })

  it('rejoins every held room after a reconnect with since and epoch', async () => {
    const { server, client } = await joined('a')
    client.join('b')
    await flush()
    server.publish('a', 'e', 1)
    server.publish('a', 'e', 2)
    server.drop(FakeWebSocket.latest())
    await flush(250)
    const joins = FakeWebSocket.latest().sentOfType('join')
    expect(joins).toEqual([
      { type: 'join', room: 'a', since: 2, epoch: 'e1', ref: expect.any(Number) },
      { type: 'join', room: 'b', since: 0, epoch: 'e2', ref: expect.any(Number) },
    ])
    client.close()
  })

  it('delivers what was missed during the outage once, in order', async () => {
    const { server, client, seqs } = await joined()
    server.publish('r', 'e', 1)
    server.drop(FakeWebSocket.latest())
    server.publish('r', 'e', 2)
    server.publish('r', 'e', 3)
    await flush(250)
    server.publish('r', 'e', 4)
    expect(seqs).toEqual([1, 2, 3, 4])
    client.close()
  })

  it('drops messages at or below the last seen seq, whenever they arrive', async () => {
    const { client, room, seqs } = await joined()
    const socket = FakeWebSocket.latest()
    const message = (seq: number) => ({
      type: 'message',
      room: 'r',
      event: 'e',
      data: seq,
      from: 'x',
      seq,
      ts: 1,
    })
    socket.receive(message(1))
    socket.receive(message(2))
    socket.receive(message(1))
    socket.receive(message(2))
    socket.receive(message(3))
    expect(seqs).toEqual([1, 2, 3])
    expect(room.getSnapshot().seq).toBe(3)
    client.close()
  })

  it('replays history on the first join when asked', async () => {
    const server = startFake()
    server.publish('r', 'e', 'old1')
    server.publish('r', 'e', 'old2')
    server.publish('r', 'e', 'old3')
    const client = fakeClient()
    const room = client.join('r', { history: 2 })
    const data: unknown[] = []
    room.onMessage((m) => data.push(m.data))
    await flush()
    expect(FakeWebSocket.latest().sentOfType('join')[0]).toMatchObject({ history: 2 })
    expect(data).toEqual(['old2', 'old3'])
    client.close()
  })

  it('a new epoch resets the last seen seq and surfaces resync', async () => {
    const { server, client, room, seqs } = await joined()
    const resyncs: unknown[] = []
    room.on('resync', (info) => resyncs.push(info))
    server.publish('r', 'e', 1)
    server.publish('r', 'e', 2)
    server.drop(FakeWebSocket.latest())
    server.resetRoom('r', false)
    await flush(250)
    expect(resyncs).toEqual([{ reason: 'epoch', epoch: 'e2', seq: 0 }])
    server.publish('r', 'e', 'new 1')
    expect(seqs).toEqual([1, 2, 1])
    expect(room.getSnapshot()).toMatchObject({ seq: 1, epoch: 'e2' })
    client.close()
  })

  it('recovered: false in the same epoch surfaces resync and delivers what the server still holds', async () => {
    const { server, client, room, seqs } = await joined()
    server.historySize = 2
    const resyncs: unknown[] = []
    room.on('resync', (info) => resyncs.push(info))
    server.drop(FakeWebSocket.latest())
    for (let i = 0; i < 5; i++) server.publish('r', 'e', i)
    await flush(250)
    // Delivery goes on after seq 3: the replay brings 4 and 5, what is missing is at or below 3.
    expect(resyncs).toEqual([{ reason: 'not_recovered', epoch: 'e1', seq: 3 }])
    server.publish('r', 'e', 'next')
    expect(seqs).toEqual([4, 5, 6])
    client.close()
  })

  it('a reset frame surfaces resync and takes the new epoch', async () => {
    const { server, client, room, seqs } = await joined()
    const resyncs: unknown[] = []
    room.on('resync', (info) => resyncs.push(info))
    server.publish('r', 'e', 1)
    server.resetRoom('r', true)
    server.publish('r', 'e', 'fresh')
    expect(resyncs).toEqual([{ reason: 'reset', epoch: 'e2', seq: 0 }])
    expect(seqs).toEqual([1, 1])
    client.close()
  })

  it('tracks members and presence, self included', async () => {
    const { client, room } = await joined('r', { autoConnect: true })
    const events: string[] = []
    room.on('member_joined', (m) => events.push(`+${m.id}`))
    room.on('member_left', (m) => events.push(`-${m.id}`))
    room.on('presence', (m) => events.push(`~${m.id}:${String(m.presence)}`))
    const socket = FakeWebSocket.latest()
    socket.receive({ type: 'member_joined', room: 'r', member: { id: 'c7', user: 'ada' } })
    socket.receive({ type: 'presence', room: 'r', id: 'c7', state: 'typing' })
    expect(room.members).toEqual([{ id: 'c1' }, { id: 'c7', user: 'ada', presence: 'typing' }])
    socket.receive({ type: 'member_left', room: 'r', id: 'c7' })
    expect(events).toEqual(['+c7', '~c7:typing', '-c7'])
    expect(room.getSnapshot().self).toEqual({ id: 'c1' })
    client.close()
  })

  it('setPresence updates self at once, resolves at the ack and is sent again with every rejoin', async () => {
    const { server, client, room } = await joined()
    await expect(room.setPresence({ typing: true })).resolves.toBeUndefined()
    expect(room.getSnapshot().self).toEqual({ id: 'c1', presence: { typing: true } })
    server.drop(FakeWebSocket.latest())
    await flush(250)
    expect(FakeWebSocket.latest().sentOfType('join')[0]).toMatchObject({ presence: { typing: true } })
    client.close()
  })

  it('setPresence shows self the state as the schema keeps it, as the other members get it', async () => {
    const protocol = defineProtocol({ presence: z.object({ name: z.string() }) })
    const { client, room } = await joined('r', { protocol: protocol as never })
    const state = { name: 'Ada', avatar: 'x.png' } as { name: string }
    await expect(room.setPresence(state)).resolves.toBeUndefined()
    expect(room.getSnapshot().self).toEqual({ id: 'c1', presence: { name: 'Ada' } })
    client.close()
  })

  it('rejects ready when the server refuses the join', async () => {
    startFake()
    const client = fakeClient()
    await flush()
    const socket = FakeWebSocket.latest()
    socket.onSend = (frame) => {
      const m = JSON.parse(frame)
      if (m.type === 'join') socket.receive({ type: 'error', code: 'room_full', message: 'full', ref: m.ref })
    }
    const room = client.join('r')
    await expect(room.ready).rejects.toMatchObject({ name: 'RoomwireError', code: 'room_full' })
    expect(room.getSnapshot()).toMatchObject({ status: 'error', error: { code: 'room_full' } })
    client.close()
  })

  it('throws a TypeError for an invalid room name', () => {
    startFake()
    const client = fakeClient({ autoConnect: false })
    expect(() => client.join('no spaces')).toThrow(TypeError)
  })
})

describe('snapshots', () => {
  it('keep their identity until something in them changed', async () => {
    const { server, client, room } = await joined()
    const clientSnapshot = client.getSnapshot()
    const roomSnapshot = room.getSnapshot()
    expect(client.getSnapshot()).toBe(clientSnapshot)
    expect(room.getSnapshot()).toBe(roomSnapshot)
    server.publish('r', 'e', 1)
    const next = room.getSnapshot()
    expect(next).not.toBe(roomSnapshot)
    expect(next.members).toBe(roomSnapshot.members)
    expect(next.pending).toBe(roomSnapshot.pending)
    expect(client.getSnapshot()).toBe(clientSnapshot)
    client.close()
  })

  it('are frozen', async () => {
    const { client, room } = await joined()
    expect(Object.isFrozen(client.getSnapshot())).toBe(true)
    expect(Object.isFrozen(room.getSnapshot())).toBe(true)
    expect(Object.isFrozen(room.getSnapshot().members)).toBe(true)
    client.close()
  })

  it('notify subscribers on change, and stop after unsubscribe', async () => {
    const { server, client, room } = await joined()
    const listener = vi.fn()
    const stop = room.subscribe(listener)
    server.publish('r', 'e', 1)
    expect(listener).toHaveBeenCalledTimes(1)
    stop()
    server.publish('r', 'e', 2)
    expect(listener).toHaveBeenCalledTimes(1)
    client.close()
  })

  it('emit status events with the new snapshot', async () => {
    startFake()
    const client = fakeClient()
    const statuses: string[] = []
    client.on('status', (s) => statuses.push(s.status))
    await flush()
    FakeWebSocket.latest().serverClose(1006)
    client.close()
    expect(statuses).toEqual(['open', 'reconnecting', 'closed'])
  })
})
