import type { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { createRoomServer, HistoryRing } from '../src/index'
import { framesOf, msg, pushMessage, seqsOf, startTestServer, TestClient } from './helpers'

// The per-connection and per-room structures are made lazily (see docs/BENCHMARKS.md, idle memory): these
// tests pin down that they behave as the eager ones did, and are freed again.

describe('a connection in one room, then several, then one again', () => {
  it('keeps its memberships, its room limit and not_joined right through the change', async () => {
    await using server = await startTestServer({ maxRoomsPerConnection: 3 })
    await using client = await server.connect({ join: 'a' })
    for (const room of ['b', 'c']) {
      expect(await client.request({ type: 'join', room })).toMatchObject({ type: 'joined', room })
    }
    expect(await client.request({ type: 'join', room: 'd' })).toMatchObject({ code: 'too_many_rooms' })
    expect(await client.request({ type: 'leave', room: 'a' })).toMatchObject({ type: 'left' })
    expect(await client.request({ type: 'leave', room: 'c' })).toMatchObject({ type: 'left' })
    expect(await client.request({ type: 'publish', room: 'b', event: 'e', data: 1 })).toMatchObject({
      type: 'ack',
      seq: 1,
    })
    for (const room of ['a', 'c']) {
      expect(await client.request({ type: 'publish', room, event: 'e', data: 1 })).toMatchObject({
        code: 'not_joined',
      })
    }
    expect(await client.request({ type: 'join', room: 'd' })).toMatchObject({ type: 'joined', room: 'd' })
    expect(await client.request({ type: 'join', room: 'e' })).toMatchObject({ type: 'joined', room: 'e' })
    expect(await client.request({ type: 'join', room: 'f' })).toMatchObject({ code: 'too_many_rooms' })
    expect((await server.server.rooms()).sort()).toEqual(['b', 'd', 'e'])
  })

  it('leaves every room it was in, one or several, when it disconnects', async () => {
    await using server = await startTestServer()
    await using watcher = await server.connect({ join: 'x' })
    const one = await server.connect({ join: 'x' })
    const several = await server.connect({ join: 'x' })
    await several.request({ type: 'join', room: 'y' })
    await one.close()
    await several.close()
    await vi.waitFor(() =>
      expect(
        watcher
          .received('member_left')
          .map((m) => m.id)
          .sort(),
      ).toEqual([one.id, several.id].sort()),
    )
    await vi.waitFor(async () => expect(await server.server.rooms()).toEqual(['x']))
    expect((await server.server.roomInfo('x'))?.members).toEqual([{ id: watcher.id }])
  })
})

describe('per-connection loggers made on first use', () => {
  it('bind the connection id to a line logged long after connecting', async () => {
    const lines: { msg: string; conn?: string }[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string; conn?: string })
        done()
      },
    })
    await using server = await startTestServer({
      logger: pino({ level: 'warn' }, sink),
      rateLimitPerSec: 1,
      rateLimitBurst: 1,
    })
    await using client = await server.connect({ join: 'r' })
    for (let i = 0; i < 5; i++) client.send({ type: 'publish', room: 'r', event: 'e', data: i })
    expect((await client.closed).code).toBe(1008)
    await vi.waitFor(() =>
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'rate limit exceeded persistently', conn: client.id }),
      ),
    )
    // At level warn nothing is logged for a plain connect or disconnect.
    expect(lines.filter((l) => l.msg === 'connected' || l.msg === 'disconnected')).toEqual([])
  })
})

describe('HistoryRing grown on demand', () => {
  it('holds what was pushed before it is full, in order', () => {
    const ring = new HistoryRing(100)
    for (let seq = 1; seq <= 3; seq++) pushMessage(ring, msg(seq))
    expect(ring.size).toBe(3)
    expect(seqsOf(ring.last(100))).toEqual([1, 2, 3])
    expect(ring.since(1, 3)).toEqual({ recovered: true, frames: framesOf(msg(2), msg(3)) })
    expect(ring.since(0, 4)).toEqual({ recovered: false })
  })

  it('wraps at capacity many times over and keeps the ids of held messages only', () => {
    const ring = new HistoryRing(4)
    for (let seq = 1; seq <= 23; seq++) pushMessage(ring, msg(seq, `m${seq}`))
    expect(ring.size).toBe(4)
    expect(seqsOf(ring.last(10))).toEqual([20, 21, 22, 23])
    expect(ring.seqOfId('m19')).toBeUndefined()
    expect(ring.seqOfId('m20')).toBe(20)
    expect(ring.since(21, 23)).toEqual({ recovered: true, frames: framesOf(msg(22, 'm22'), msg(23, 'm23')) })
  })

  it('knows no ids before a message carries one', () => {
    const ring = new HistoryRing(4)
    pushMessage(ring, msg(1))
    expect(ring.seqOfId('m1')).toBeUndefined()
  })
})

describe('the listeners an accepted socket carries', () => {
  // Each event name a socket or WebSocket listens for is an entry in its listener table, and a second
  // listener for one name turns the entry into an array: bytes of every idle connection (issue 20).
  it('one per event name on the socket, none for ping or pong on the WebSocket', async () => {
    const rooms = createRoomServer({ noServer: true, logLevel: 'silent' })
    const http = createServer()
    const sockets: Duplex[] = []
    http.on('upgrade', (req, socket, head) => {
      sockets.push(socket)
      rooms.handleUpgrade(req, socket, head)
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as { port: number }).port
    const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
    try {
      await client.next('welcome')
      const socket = sockets[0]!
      expect(socket.listenerCount('error')).toBe(1)
      const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'websocket')!
      const ws = (socket as unknown as Record<symbol, EventEmitter>)[key]!
      expect(ws.eventNames().sort()).toEqual(['close', 'error', 'message'])
    } finally {
      await client.close()
      await rooms.close()
      await new Promise((resolve) => http.close(resolve))
    }
  })
})
