import { Socket } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket, * as wsModule from 'ws'

// ws's frame writer (exported by ws, though not in its typings): the server's frames go through it.
const Sender = (wsModule as unknown as { Sender: { prototype: { sendFrame(list: Buffer[]): void } } }).Sender

import { framePayload, textFrame } from '../src/frames'
import { startTestServer } from './helpers'

// Fan-outs and replies are written as whole WebSocket frames made once (textFrame) straight to ws's
// sender; with permessage-deflate, compressed once per message by the server (deflate-frames.ts). Both
// must give a real client exactly the messages.

// Payload sizes on both sides of each length encoding (7-bit, 16-bit, 64-bit), in multi-byte UTF-8.
const SIZES = [0, 1, 100, 125, 126, 127, 1000, 65_535, 65_536, 70_000]
const textOf = (bytes: number) => {
  // 'é' is 2 bytes in UTF-8; pad with ASCII to land on the exact byte count.
  const wide = Math.floor(bytes / 3)
  return 'é'.repeat(wide) + 'a'.repeat(bytes - 2 * wide)
}

describe('textFrame', () => {
  it('writes RFC 6455 headers: FIN and text opcode, no mask, the length in 7, 16 or 64 bits', () => {
    for (const size of SIZES) {
      const text = textOf(size)
      const frame = textFrame(text)
      expect(frame[0]).toBe(0x81)
      const mark = frame[1]!
      expect(mark & 0x80).toBe(0)
      const length =
        mark === 126 ? frame.readUInt16BE(2) : mark === 127 ? Number(frame.readBigUInt64BE(2)) : mark
      expect(length).toBe(size)
      expect(mark === 126).toBe(size >= 126 && size < 65_536)
      expect(mark === 127).toBe(size >= 65_536)
      expect(framePayload(frame).toString('utf8')).toBe(text)
      expect(framePayload(frame).length).toBe(size)
    }
  })
})

describe('the path a frame takes', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /** Calls of ws.send on the server's sockets (the test's clients share the class). */
  function serverSends(): () => number {
    const send = vi.spyOn(WebSocket.prototype, 'send')
    return () => send.mock.contexts.filter((ws) => (ws as { _isServer?: boolean })._isServer).length
  }

  it('skips ws.send when no extension was negotiated', async () => {
    await using server = await startTestServer()
    const sends = serverSends()
    await using a = await server.connect({ join: 'r' })
    await using b = await server.connect({ join: 'r' })
    await a.request({ type: 'publish', room: 'r', event: 'e', data: 1 })
    await b.next('message')
    expect(sends()).toBe(0)
  })

  it('compresses a fan-out once and writes the same frame to every member that negotiated permessage-deflate', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const sends = serverSends()
    // Server frames are the unmasked ones (clients mask theirs, RFC 6455 section 5.3).
    const frames = vi.spyOn(Sender.prototype, 'sendFrame')
    const serverFrames = () =>
      frames.mock.calls.map(([list]) => list[0]!).filter((frame) => ((frame[1] ?? 0) & 0x80) === 0)
    await using a = await server.connect({ join: 'r' })
    await using b = await server.connect({ join: 'r' })
    await using c = await server.connect({ join: 'r' })
    await using plain = await server.connect({ join: 'r', clientOptions: { perMessageDeflate: false } })
    const data = 'chat text '.repeat(300)
    await a.request({ type: 'publish', room: 'r', event: 'e', data })
    for (const member of [b, c, plain]) await expect(member.next('message')).resolves.toMatchObject({ data })
    // RSV1 set: compressed. One Buffer for both compressed members, and the plain member got it plain.
    const compressed = serverFrames().filter((frame) => frame[0] === 0xc1)
    expect(compressed).toHaveLength(2)
    expect(compressed[0]).toBe(compressed[1])
    expect(compressed[0]!.length).toBeLessThan(data.length / 4)
    // Nothing goes through ws.send, so ws never queues a ping or a close behind its own compression.
    expect(sends()).toBe(0)
  })
})

describe.each([
  { mode: 'whole frames on the socket', perMessageDeflate: false },
  { mode: 'frames compressed once, with permessage-deflate', perMessageDeflate: true },
])('delivery as $mode', ({ perMessageDeflate }) => {
  it('gives a ws client every size of message intact and in order, fan-out and replies alike', async () => {
    await using server = await startTestServer({
      maxMessageBytes: 200_000,
      rateLimitPerSec: 0,
      perMessageDeflate,
    })
    await using a = await server.connect({ join: 'r' })
    await using b = await server.connect({ join: 'r' })
    expect(b.ws.extensions === '').toBe(!perMessageDeflate)
    for (const [i, size] of SIZES.entries()) {
      a.send({ type: 'publish', room: 'r', event: 'e', data: textOf(size), echo: true, ref: i })
    }
    await vi.waitFor(() => expect(a.received('ack')).toHaveLength(SIZES.length))
    await vi.waitFor(() => expect(b.received('message')).toHaveLength(SIZES.length))
    expect(b.received('message').map((m) => m.data)).toEqual(SIZES.map(textOf))
    // The publisher's own copy (echo) precedes its ack, publish after publish.
    expect(a.messages.filter((m) => m.type === 'message' || m.type === 'ack').map((m) => m.type)).toEqual(
      SIZES.flatMap(() => ['message', 'ack']),
    )
    expect(a.received('ack').map((m) => m.ref)).toEqual(SIZES.map((_, i) => i))
  })

  it('delivers a large direct message and a large joined frame', async () => {
    await using server = await startTestServer({ maxMessageBytes: 200_000, perMessageDeflate })
    await using a = await server.connect({ join: 'big' })
    const presence = { text: textOf(1500) }
    await using b = await server.connect()
    b.send({ type: 'join', room: 'big', presence, ref: 1 })
    const joined = await b.next('joined')
    expect(joined.members.map((m) => m.id).sort()).toEqual([a.id, b.id].sort())
    const data = textOf(100_000)
    expect(await a.request({ type: 'direct', to: b.id, event: 'd', data })).toMatchObject({ type: 'ack' })
    expect((await b.next('direct')).data).toBe(data)
    expect((await a.next('member_joined')).member.presence).toEqual(presence)
  })
})

describe('a burst of frames to one socket in one event-loop turn', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('is written in a few writes, in order, with replies in their place', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    await using publisher = await server.connect({ join: 'r' })
    await using reader = await server.connect({ join: 'r' })
    const port = (reader.ws as unknown as { _socket: Socket })._socket.localPort
    const writes = { count: 0 }
    for (const method of ['_write', '_writev'] as const) {
      const original = Socket.prototype[method] as (...args: unknown[]) => unknown
      vi.spyOn(Socket.prototype, method).mockImplementation(function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === port && (this as { server?: unknown }).server !== undefined) writes.count++
        return original.apply(this, args)
      })
    }
    // One TCP segment of 50 publishes (the client's socket corked), handled in one turn by the server.
    const socket = (publisher.ws as unknown as { _socket: Socket })._socket
    socket.cork()
    for (let i = 0; i < 50; i++) {
      publisher.send({ type: 'publish', room: 'r', event: 'e', data: i, echo: true, ref: i })
    }
    socket.uncork()
    await vi.waitFor(() => expect(reader.received('message')).toHaveLength(50))
    expect(reader.received('message').map((m) => m.data)).toEqual([...Array(50).keys()])
    expect(writes.count).toBeLessThanOrEqual(5)
    await vi.waitFor(() => expect(publisher.received('ack')).toHaveLength(50))
    const order = publisher.messages
      .filter((m) => m.type === 'message' || m.type === 'ack')
      .map((m) => `${m.type}:${m.type === 'ack' ? m.ref : (m as { data: number }).data}`)
    expect(order).toEqual([...Array(50).keys()].flatMap((i) => [`message:${i}`, `ack:${i}`]))
  })

  it('reaches an idle client without waiting for other traffic', async () => {
    await using server = await startTestServer({ pingIntervalMs: 60_000 })
    await using client = await server.connect({ join: 'r' })
    // The echo and the ack go out in one turn: the second is corked, and must be flushed by the turn's end.
    const started = performance.now()
    await client.request({ type: 'publish', room: 'r', event: 'e', data: 1, echo: true })
    expect(performance.now() - started).toBeLessThan(500)
    expect(client.received('message')).toHaveLength(1)
  })
})
