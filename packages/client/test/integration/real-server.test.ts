import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryAdapter, createRoomServer, fileState, type RoomServer } from '@roomwire/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { type Client, createClient, type RoomMessage, type WebSocketConstructor } from '../../src/index'
import { startTcpProxy, type TcpProxy } from './tcp-proxy'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** A server on loopback; with `stateFile`, its rooms outlive a graceful close (as with `--state-file`). */
async function startServer(port = 0, stateFile?: string): Promise<RoomServer & { port: number }> {
  const server = createRoomServer({
    port,
    host: '127.0.0.1',
    logLevel: 'silent',
    shutdownSpreadMs: 50,
    ...(stateFile === undefined ? {} : { adapter: createMemoryAdapter({ persist: fileState(stateFile) }) }),
  })
  await server.ready
  const { port: actual } = server.address() as AddressInfo
  return Object.assign(server, { port: actual })
}

function connect(port: number, options: { reconnect?: { initialMs: number; maxMs: number } } = {}): Client {
  const client = createClient({
    url: `ws://127.0.0.1:${port}/ws`,
    reconnect: options.reconnect ?? { initialMs: 50, maxMs: 200 },
    heartbeat: { intervalMs: 500, timeoutMs: 500 },
    logger: { error: () => {} },
  })
  cleanup.push(() => client.close())
  return client
}

const newStateFile = () => join(mkdtempSync(join(tmpdir(), 'roomwire-client-')), 'state.jsonl')

describe('against the real server', () => {
  it('two clients chat in a room', async () => {
    const server = await startServer()
    cleanup.push(() => server.close())
    const alice = connect(server.port)
    const bob = connect(server.port)
    const aliceRoom = alice.join('general')
    const bobRoom = bob.join('general')
    const aliceSeen: RoomMessage[] = []
    const bobSeen: RoomMessage[] = []
    aliceRoom.onMessage((m) => aliceSeen.push(m))
    bobRoom.onMessage((m) => bobSeen.push(m))
    await Promise.all([aliceRoom.ready, bobRoom.ready])
    await vi.waitFor(() => expect(aliceRoom.members).toHaveLength(2))
    await expect(aliceRoom.publish('chat', { text: 'hi bob' })).resolves.toEqual({ seq: 1 })
    await bobRoom.publish('chat', { text: 'hi alice' })
    await vi.waitFor(() => expect(aliceSeen).toHaveLength(2))
    await vi.waitFor(() => expect(bobSeen).toHaveLength(2))
    for (const seen of [aliceSeen, bobSeen]) {
      expect(seen.map((m) => [m.seq, m.data])).toEqual([
        [1, { text: 'hi bob' }],
        [2, { text: 'hi alice' }],
      ])
    }
    expect(aliceSeen.map((m) => m.own)).toEqual([true, false])
    expect(bobSeen[0]?.from).toBe(alice.id)
  })

  it('a connection cut without a close frame comes back and gets every message published meanwhile once, in order', async () => {
    const server = await startServer()
    cleanup.push(() => server.close())
    const proxy: TcpProxy = await startTcpProxy(server.port)
    cleanup.push(() => proxy.close())
    const publisher = connect(server.port)
    const subscriber = connect(proxy.port)
    const pubRoom = publisher.join('feed')
    const subRoom = subscriber.join('feed')
    const seqs: number[] = []
    subRoom.onMessage((m) => seqs.push(m.seq))
    await Promise.all([pubRoom.ready, subRoom.ready])
    for (let i = 0; i < 10; i++) await pubRoom.publish('tick', i)
    await vi.waitFor(() => expect(seqs).toHaveLength(10))
    const firstId = subscriber.id

    proxy.refuse = true
    proxy.cut()
    await vi.waitFor(() => expect(subscriber.status).toBe('reconnecting'))
    for (let i = 10; i < 40; i++) await pubRoom.publish('tick', i)
    proxy.refuse = false

    await vi.waitFor(() => expect(seqs).toHaveLength(40), { timeout: 5_000 })
    await pubRoom.publish('tick', 40)
    await vi.waitFor(() => expect(seqs).toHaveLength(41))
    expect(seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1))
    expect(subscriber.id).not.toBe(firstId)
    expect(subRoom.status).toBe('joined')
  })

  it('publishes made during the outage are sent after the rejoin, once each', async () => {
    const server = await startServer()
    cleanup.push(() => server.close())
    const proxy = await startTcpProxy(server.port)
    cleanup.push(() => proxy.close())
    const sender = connect(proxy.port)
    const watcher = connect(server.port)
    const room = sender.join('r')
    const watched = watcher.join('r')
    const data: unknown[] = []
    watched.onMessage((m) => data.push(m.data))
    await Promise.all([room.ready, watched.ready])
    proxy.refuse = true
    proxy.cut()
    await vi.waitFor(() => expect(sender.status).toBe('reconnecting'))
    const results = Array.from({ length: 20 }, (_, i) => room.publish('e', i))
    proxy.refuse = false
    await Promise.all(results)
    await vi.waitFor(() => expect(data).toHaveLength(20))
    expect(data).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('a server restarted gracefully with its state file gets all its clients back in the same epoch without a resync', async () => {
    const file = newStateFile()
    const first = await startServer(0, file)
    const port = first.port
    const clients = Array.from({ length: 5 }, () => connect(port))
    const rooms = clients.map((c) => c.join('lobby'))
    const resyncs = rooms.map(() => 0)
    rooms.forEach((room, i) => {
      room.on('resync', () => {
        resyncs[i]!++
      })
    })
    await Promise.all(rooms.map((r) => r.ready))
    await rooms[0]!.publish('e', 'before')
    const epoch = rooms[0]!.getSnapshot().epoch
    await first.close()
    await vi.waitFor(() => expect(clients.every((c) => c.status !== 'open')).toBe(true))

    const second = await startServer(port, file)
    cleanup.push(() => second.close())
    await vi.waitFor(() => expect(clients.every((c) => c.status === 'open')).toBe(true), { timeout: 5_000 })
    await vi.waitFor(() => expect(rooms.every((r) => r.status === 'joined')).toBe(true))
    await vi.waitFor(() => expect(rooms[0]!.members).toHaveLength(5))
    // The server kept the room's epoch and seq: every rejoin recovered, nobody is told to refetch.
    expect(rooms.map((r) => r.getSnapshot().epoch)).toEqual(rooms.map(() => epoch))
    expect(resyncs).toEqual([0, 0, 0, 0, 0])
    await expect(rooms[1]!.publish('e', 'after')).resolves.toEqual({ seq: 2 })
  })

  it('a server restarted gracefully without a state file makes every client resync once with reason epoch', async () => {
    const first = await startServer()
    const port = first.port
    const clients = Array.from({ length: 3 }, () => connect(port))
    const rooms = clients.map((c) => c.join('lobby'))
    const resyncs: unknown[][] = rooms.map(() => [])
    for (const [i, room] of rooms.entries()) room.on('resync', (info) => resyncs[i]!.push(info))
    await Promise.all(rooms.map((r) => r.ready))
    await rooms[0]!.publish('e', 'before')
    await first.close()
    const second = await startServer(port)
    cleanup.push(() => second.close())
    await vi.waitFor(() => expect(rooms.every((r) => r.status === 'joined')).toBe(true), { timeout: 5_000 })
    // The notice each client saw proves nothing about the new epoch (PROTOCOL.md, change 11).
    expect(resyncs).toEqual(rooms.map(() => [expect.objectContaining({ reason: 'epoch', seq: 0 })]))
  })

  it('a server that went away without its shutdown notice makes every client resync with reason epoch', async () => {
    const first = await startServer()
    const port = first.port
    const proxy = await startTcpProxy(port)
    cleanup.push(() => proxy.close())
    const client = connect(proxy.port)
    const room = client.join('lobby')
    const resyncs: unknown[] = []
    room.on('resync', (info) => resyncs.push(info))
    await room.ready
    await room.publish('e', 'before')
    // The link dies first, then the process: the client never gets the notice (as in a crash).
    proxy.refuse = true
    proxy.cut()
    await vi.waitFor(() => expect(client.status).toBe('reconnecting'))
    await first.close()
    const second = await startServer(port)
    cleanup.push(() => second.close())
    proxy.refuse = false
    await vi.waitFor(() => expect(resyncs).toHaveLength(1), { timeout: 5_000 })
    expect(resyncs[0]).toMatchObject({ reason: 'epoch', seq: 0 })
    expect(room.getSnapshot().epoch).not.toBe(null)
  })

  /** Issue 13, case 2: one client is kept away while the other comes back after the restart and publishes. */
  async function backLate(stateFile?: string) {
    const first = await startServer(0, stateFile)
    const port = first.port
    const proxy = await startTcpProxy(port)
    cleanup.push(() => proxy.close())
    const early = connect(port)
    const late = connect(proxy.port)
    const earlyRoom = early.join('lobby')
    const lateRoom = late.join('lobby')
    const data: unknown[] = []
    const resyncs: unknown[] = []
    lateRoom.onMessage((m) => data.push(m.data))
    lateRoom.on('resync', (info) => resyncs.push(info))
    await Promise.all([earlyRoom.ready, lateRoom.ready])
    await earlyRoom.publish('e', 'before')
    await vi.waitFor(() => expect(data).toEqual(['before']))
    proxy.refuse = true
    await first.close()
    const second = await startServer(port, stateFile)
    cleanup.push(() => second.close())
    await vi.waitFor(() => expect(earlyRoom.status).toBe('joined'), { timeout: 5_000 })
    for (let i = 1; i <= 5; i++) await earlyRoom.publish('e', `after ${i}`)
    proxy.refuse = false
    await vi.waitFor(() => expect(data).toHaveLength(6), { timeout: 5_000 })
    return { data, resyncs }
  }

  it('a client back late after a graceful restart with a state file gets every message published meanwhile, once, in order, and no resync', async () => {
    const { data, resyncs } = await backLate(newStateFile())
    expect(data).toEqual(['before', 'after 1', 'after 2', 'after 3', 'after 4', 'after 5'])
    expect(resyncs).toEqual([])
  })

  it('a client back late after a graceful restart without a state file gets every message of the new epoch, once, in order, and one resync', async () => {
    const { data, resyncs } = await backLate()
    expect(data).toEqual(['before', 'after 1', 'after 2', 'after 3', 'after 4', 'after 5'])
    expect(resyncs).toEqual([expect.objectContaining({ reason: 'epoch', seq: 0 })])
  })

  it('a message lost on a live connection comes back through a rejoin on the same connection', async () => {
    const server = await startServer()
    cleanup.push(() => server.close())
    let lost = 0
    // `ws`, but the first frame carrying seq 3 never reaches the client (as when an ack overtook it).
    const accessor = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!
    function LossyWebSocket(url: string, protocols?: string | string[]) {
      const socket = new WebSocket(url, protocols)
      Object.defineProperty(socket, 'onmessage', {
        get: () => accessor.get!.call(socket),
        set: (handler: ((event: WebSocket.MessageEvent) => void) | null) =>
          accessor.set!.call(
            socket,
            handler &&
              ((event: WebSocket.MessageEvent) => {
                if (lost === 0 && String(event.data).includes('"seq":3,')) lost++
                else handler(event)
              }),
          ),
      })
      return socket
    }
    const publisher = connect(server.port)
    const subscriber = createClient({
      url: `ws://127.0.0.1:${server.port}/ws`,
      WebSocket: LossyWebSocket as unknown as WebSocketConstructor,
      gapTimeoutMs: 100,
      logger: { error: () => {} },
    })
    cleanup.push(() => subscriber.close())
    const pubRoom = publisher.join('feed')
    const subRoom = subscriber.join('feed')
    const seqs: number[] = []
    const resyncs: unknown[] = []
    subRoom.onMessage((m) => seqs.push(m.seq))
    subRoom.on('resync', (info) => resyncs.push(info))
    await Promise.all([pubRoom.ready, subRoom.ready])
    const firstId = subscriber.id
    for (let i = 1; i <= 5; i++) await pubRoom.publish('tick', i)
    await vi.waitFor(() => expect(seqs).toEqual([1, 2, 3, 4, 5]))
    expect(lost).toBe(1)
    expect(resyncs).toEqual([])
    expect(subscriber.id).toBe(firstId)
  })
})
