import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ResyncInfo } from '../src/index'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
})

async function joined() {
  const server = startFake()
  const client = fakeClient()
  const room = client.join('r')
  const seen: Array<[number, unknown]> = []
  const resyncs: ResyncInfo[] = []
  room.onMessage((m) => seen.push([m.seq, m.data]))
  room.on('resync', (info) => resyncs.push(info))
  await flush()
  await room.ready
  return { server, client, room, seen, resyncs }
}

/** The server restarts with its memory lost: a new epoch from seq 0, as the reference server does. */
function restart(server: ReturnType<typeof startFake>, { notice }: { notice: boolean }): void {
  if (notice) server.notifyShutdown()
  server.drop(FakeWebSocket.latest(), notice ? 1012 : 1006)
  server.resetRoom('r', false)
}

describe('resync', () => {
  it('is not emitted by a first join, with or without history', async () => {
    const server = startFake()
    server.publish('r', 'e', 'old')
    const client = fakeClient()
    const room = client.join('r', { history: 5 })
    const resyncs: unknown[] = []
    room.on('resync', (info) => resyncs.push(info))
    await flush()
    await room.ready
    expect(resyncs).toEqual([])
    client.close()
  })

  it('is not emitted by a rejoin in the same epoch that recovered everything', async () => {
    const { server, client, seen, resyncs } = await joined()
    server.publish('r', 'e', 1)
    server.drop(FakeWebSocket.latest())
    server.publish('r', 'e', 2)
    await flush(250)
    expect(resyncs).toEqual([])
    expect(seen).toEqual([
      [1, 1],
      [2, 2],
    ])
    client.close()
  })

  it('is emitted with reason epoch after a new epoch though the connection saw the shutdown notice, and the whole new epoch follows', async () => {
    // The notice cannot prove that the new epoch directly follows the one the client saw end: another
    // may have lived and died while it was away (issue 13). Only the server can keep the epoch.
    const { server, client, room, seen, resyncs } = await joined()
    server.publish('r', 'e', 'old 1')
    restart(server, { notice: true })
    server.publish('r', 'e', 'new 1')
    server.publish('r', 'e', 'new 2')
    await flush(250)
    expect(resyncs).toEqual([{ reason: 'epoch', epoch: 'e2', seq: 0 }])
    expect(seen).toEqual([
      [1, 'old 1'],
      [1, 'new 1'],
      [2, 'new 2'],
    ])
    expect(room.getSnapshot()).toMatchObject({ epoch: 'e2', seq: 2 })
    client.close()
  })

  it('is not emitted by a rejoin after the shutdown notice when the server kept the epoch, and what was missed follows', async () => {
    const { server, client, room, seen, resyncs } = await joined()
    server.publish('r', 'e', 1)
    // A graceful restart with the room's state kept: the same epoch, the seq going on.
    server.notifyShutdown()
    server.drop(FakeWebSocket.latest(), 1012)
    server.publish('r', 'e', 2)
    await flush(250)
    expect(resyncs).toEqual([])
    expect(FakeWebSocket.latest().sentOfType('join')[0]).toMatchObject({ since: 1, epoch: 'e1' })
    expect(seen).toEqual([
      [1, 1],
      [2, 2],
    ])
    expect(room.getSnapshot()).toMatchObject({ epoch: 'e1', seq: 2 })
    client.close()
  })

  it('tells in each message the epoch its seq belongs to', async () => {
    const { server, client, room } = await joined()
    const epochs: string[] = []
    room.onMessage((m) => epochs.push(`${m.epoch}/${m.seq}`))
    server.publish('r', 'e', 'old 1')
    restart(server, { notice: true })
    server.publish('r', 'e', 'new 1')
    await flush(250)
    await room.publish('e', 'mine')
    expect(epochs).toEqual(['e1/1', 'e2/1', 'e2/2'])
    client.close()
  })

  it('is emitted with reason epoch after a new epoch without a shutdown notice, and the replay follows', async () => {
    const { server, client, seen, resyncs } = await joined()
    server.publish('r', 'e', 'old 1')
    restart(server, { notice: false })
    server.publish('r', 'e', 'new 1')
    await flush(250)
    expect(resyncs).toEqual([{ reason: 'epoch', epoch: 'e2', seq: 0 }])
    expect(seen).toEqual([
      [1, 'old 1'],
      [1, 'new 1'],
    ])
    client.close()
  })

  it('is emitted with the seq delivery goes on after when the new epoch is not replayed from its seq 1', async () => {
    const { server, client, seen, resyncs } = await joined()
    server.historySize = 2
    restart(server, { notice: true })
    for (let i = 1; i <= 4; i++) server.publish('r', 'e', `new ${i}`)
    await flush(250)
    expect(resyncs).toEqual([{ reason: 'epoch', epoch: 'e2', seq: 2 }])
    expect(seen).toEqual([
      [3, 'new 3'],
      [4, 'new 4'],
    ])
    client.close()
  })

  it('is emitted once for a client away across two restarts, with the last epoch', async () => {
    const { server, client, seen, resyncs } = await joined()
    server.publish('r', 'e', 'old 1')
    // Away: its link refuses every attempt while the server restarts twice, publishing in between.
    server.autoAccept = false
    restart(server, { notice: true })
    server.publish('r', 'e', 'lost with e2')
    server.resetRoom('r', false)
    server.publish('r', 'e', 'e3 1')
    await flush(1_000)
    expect(FakeWebSocket.latest().readyState).toBe(0)
    server.autoAccept = true
    server.accept(FakeWebSocket.latest())
    await flush(250)
    expect(resyncs).toEqual([{ reason: 'epoch', epoch: 'e3', seq: 0 }])
    expect(seen).toEqual([
      [1, 'old 1'],
      [1, 'e3 1'],
    ])
    client.close()
  })

  it('is emitted with reason not_recovered by a same-epoch rejoin with recovered: false', async () => {
    const { server, client, seen, resyncs } = await joined()
    server.historySize = 2
    server.drop(FakeWebSocket.latest())
    for (let i = 1; i <= 5; i++) server.publish('r', 'e', i)
    await flush(250)
    expect(resyncs).toEqual([{ reason: 'not_recovered', epoch: 'e1', seq: 3 }])
    expect(seen.map(([seq]) => seq)).toEqual([4, 5])
    client.close()
  })

  it('on reset takes the new epoch and seq as last seen, and delivers every later message', async () => {
    const { client, room, seen, resyncs } = await joined()
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
    socket.receive({ type: 'reset', room: 'r', epoch: 'e9', seq: 3 })
    expect(resyncs).toEqual([{ reason: 'reset', epoch: 'e9', seq: 3 }])
    expect(room.getSnapshot()).toMatchObject({ epoch: 'e9', seq: 3 })
    socket.receive(message(3))
    socket.receive(message(4))
    socket.receive(message(5))
    expect(seen.map(([seq]) => seq)).toEqual([1, 4, 5])
    client.close()
  })

  it('after a reset, rejoins with the new epoch and the seq it reached', async () => {
    const { server, client, resyncs } = await joined()
    server.publish('r', 'e', 1)
    server.resetRoom('r', true)
    server.publish('r', 'e', 'fresh')
    server.drop(FakeWebSocket.latest())
    await flush(250)
    expect(FakeWebSocket.latest().sentOfType('join')[0]).toMatchObject({ since: 1, epoch: 'e2' })
    expect(resyncs).toEqual([{ reason: 'reset', epoch: 'e2', seq: 0 }])
    client.close()
  })
})
