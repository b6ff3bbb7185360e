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

const ids = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: `m${from + i}` }))

/** A client whose join the test answers itself, frame by frame. */
async function joining(options: Parameters<typeof fakeClient>[0] = {}) {
  startFake()
  const client = fakeClient(options)
  await flush()
  const socket = FakeWebSocket.latest()
  let joinRef = 0
  socket.onSend = (frame) => {
    const m = JSON.parse(frame)
    if (m.type === 'join') joinRef = m.ref
  }
  const errors: string[] = []
  client.on('error', (e) => errors.push(e.message))
  const room = client.join('r')
  await flush()
  const send = (frame: Record<string, unknown>) => socket.receive({ room: 'r', ...frame })
  return { client, room, socket, errors, send, ref: () => joinRef }
}

describe('paged member lists', () => {
  it('collects members pages and shows the whole list at the last page', async () => {
    const { client, room, send, ref } = await joining()
    send({ type: 'joined', seq: 0, epoch: 'e1', members: ids(1, 2), more: true, ref: ref() })
    expect(room.getSnapshot()).toMatchObject({ status: 'joining', members: [] })
    send({ type: 'members', members: ids(3, 4), more: true })
    expect(room.members).toEqual([])
    send({ type: 'members', members: ids(5, 5) })
    expect(room.members.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5'])
    expect(room.status).toBe('joined')
    await room.ready
    client.close()
  })

  it('sends what waited for the join only once the member list is whole', async () => {
    const { client, room, socket, send, ref } = await joining()
    void room.publish('e', 'waiting').catch(() => {})
    send({ type: 'joined', seq: 0, epoch: 'e1', members: ids(1, 1), more: true, ref: ref() })
    expect(socket.sentOfType('publish')).toHaveLength(0)
    send({ type: 'members', members: ids(2, 2) })
    expect(socket.sentOfType('publish')).toHaveLength(1)
    client.close()
  })

  it('delivers the replay that follows the pages, and applies live member events after the last page', async () => {
    const { client, room, send, ref } = await joining()
    const seqs: number[] = []
    const events: string[] = []
    room.onMessage((m) => seqs.push(m.seq))
    room.on('member_joined', (m) => events.push(`+${m.id}`))
    room.on('member_left', (m) => events.push(`-${m.id}`))
    send({ type: 'joined', seq: 2, epoch: 'e1', members: ids(1, 2), more: true, replay: 2, ref: ref() })
    send({ type: 'members', members: ids(3, 3) })
    for (const seq of [1, 2]) send({ type: 'message', event: 'e', data: seq, from: 'm1', seq, ts: 1 })
    send({ type: 'member_joined', member: { id: 'm9' } })
    send({ type: 'member_left', id: 'm1' })
    expect(seqs).toEqual([1, 2])
    expect(events).toEqual(['+m9', '-m1'])
    expect(room.members.map((m) => m.id)).toEqual(['m2', 'm3', 'm9'])
    client.close()
  })

  it('applies a member_changes frame as its changes one by one, in order', async () => {
    const { client, room, send, ref } = await joining()
    const events: string[] = []
    room.on('member_joined', (m) => events.push(`+${m.id}`))
    room.on('member_left', (m) => events.push(`-${m.id}`))
    send({ type: 'joined', seq: 0, epoch: 'e1', members: ids(1, 2), ref: ref() })
    send({
      type: 'member_changes',
      changes: [
        { joined: { id: 'm3', presence: { typing: true } } },
        { left: 'm1' },
        { joined: { id: 'm4' } },
        { left: 'm3' },
      ],
    })
    expect(events).toEqual(['+m3', '-m1', '+m4', '-m3'])
    expect(room.members.map((m) => m.id)).toEqual(['m2', 'm4'])
    client.close()
  })

  it('keeps at most maxMembers members and reports what it left out', async () => {
    const { client, room, errors, send, ref } = await joining({ maxMembers: 3 })
    send({ type: 'joined', seq: 0, epoch: 'e1', members: ids(1, 2), more: true, ref: ref() })
    send({ type: 'members', members: ids(3, 5) })
    expect(room.members.map((m) => m.id)).toEqual(['m1', 'm2', 'm3'])
    send({ type: 'member_joined', member: { id: 'm6' } })
    send({ type: 'presence', id: 'm7', state: 'here' })
    expect(room.members).toHaveLength(3)
    expect(errors).toEqual([
      'room "r": 2 members over maxMembers',
      'room "r": 1 members over maxMembers',
      'room "r": 1 members over maxMembers',
    ])
    client.close()
  })

  it('reports and ignores a members frame no joined announced', async () => {
    const { client, room, errors, send, ref } = await joining()
    send({ type: 'joined', seq: 0, epoch: 'e1', members: ids(1, 1), ref: ref() })
    send({ type: 'members', members: ids(2, 3) })
    expect(room.members.map((m) => m.id)).toEqual(['m1'])
    expect(errors).toEqual(['room "r": members frame without joined.more'])
    client.close()
  })

  it('drops a member list cut by a disconnect and takes the one of the rejoin', async () => {
    const { client, room, socket, send, ref } = await joining()
    send({ type: 'joined', seq: 0, epoch: 'e1', members: ids(1, 2), more: true, ref: ref() })
    socket.serverClose(1006)
    await flush(250)
    await room.ready
    expect(room.members.map((m) => m.id)).toEqual(['c2'])
    client.close()
  })
})

describe('counts mode (PROTOCOL.md, "Big rooms")', () => {
  it('takes the count from joined.count and member_count, with self as the only member', async () => {
    const { client, room, send, ref } = await joining()
    send({ type: 'joined', seq: 0, epoch: 'e1', members: [{ id: client.id }], count: 5000, ref: ref() })
    expect(room.getSnapshot()).toMatchObject({
      status: 'joined',
      memberCount: 5000,
      members: [{ id: client.id }],
    })
    send({ type: 'member_count', count: 4999 })
    expect(room.getSnapshot()).toMatchObject({ memberCount: 4999, members: [{ id: client.id }] })
    client.close()
  })

  it('drops the list but self when a listed room switches to counts, and lists again after a listed joined', async () => {
    const { client, room, send, ref } = await joining()
    send({ type: 'joined', seq: 0, epoch: 'e1', members: [{ id: client.id }, ...ids(1, 2)], ref: ref() })
    expect(room.getSnapshot().memberCount).toBe(3)
    send({ type: 'member_joined', member: { id: 'm3' } })
    expect(room.getSnapshot().memberCount).toBe(4)
    send({ type: 'member_count', count: 1001 })
    expect(room.getSnapshot()).toMatchObject({ memberCount: 1001, members: [{ id: client.id }] })
    // A rejoin answered with the list (the room shrank) is list mode again.
    send({ type: 'joined', seq: 0, epoch: 'e1', members: [{ id: client.id }, ...ids(1, 1)], ref: ref() })
    expect(room.getSnapshot()).toMatchObject({ memberCount: 2 })
    expect(room.members).toHaveLength(2)
    client.close()
  })
})
