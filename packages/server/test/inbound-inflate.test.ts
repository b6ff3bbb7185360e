import { deflateRawSync } from 'node:zlib'
import { describe, expect, it, vi } from 'vitest'
import * as wsModule from 'ws'
import WebSocket, { WebSocketServer } from 'ws'
import { PER_MESSAGE_DEFLATE } from '../src/compression'
import { inflateInline } from '../src/inbound-inflate'
import { startTestServer, TestClient } from './helpers'

// Compressed client messages inflated in the turn that read them (src/inbound-inflate.ts, issue 20): the
// same messages, limits and close codes as ws's own asynchronous inflate, on real sockets.

/** A client that compresses everything it sends (ws's threshold is 1 KiB otherwise). */
const COMPRESSING = { clientOptions: { perMessageDeflate: { threshold: 0 } } }

/** ws's frame builder (not in its typings): one masked client frame. */
const { frame } = (wsModule as unknown as { Sender: unknown }).Sender as {
  frame(data: Buffer, options: Record<string, unknown>): Buffer[]
}

/** Write one text frame with RSV1 set (compressed) and `payload` as it is, bypassing the client's zlib. */
function sendCompressedFrame(ws: WebSocket, payload: Buffer, fin = true, opcode = 1): void {
  const socket = (ws as unknown as { _socket: { write(b: Buffer): void } })._socket
  for (const part of frameParts(payload, fin, opcode)) socket.write(part)
}

/** A masked client frame (RSV1 on the first frame of a message, as permessage-deflate marks it). */
function frameParts(payload: Buffer, fin: boolean, opcode: number): Buffer[] {
  return frame(Buffer.from(payload), { fin, rsv1: opcode !== 0, opcode, mask: true, readOnly: false })
}

/** A message compressed as permessage-deflate does: raw deflate, sync flush, trailer removed. */
function deflated(text: string): Buffer {
  const out = deflateRawSync(Buffer.from(text), { finishFlush: 2 })
  return out.subarray(0, out.length - 4)
}

async function joined(url: string, room: string, deflate: boolean): Promise<TestClient> {
  const client = new TestClient(url, deflate ? COMPRESSING : {})
  await client.next('welcome')
  client.send({ type: 'join', room })
  await client.next('joined')
  return client
}

describe('inflateInline', () => {
  it("emits a socket read's compressed messages in that turn, with no zlib stream kept", async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: PER_MESSAGE_DEFLATE })
    await new Promise((resolve) => wss.once('listening', resolve))
    const port = (wss.address() as { port: number }).port
    const texts: string[] = []
    let turns = 0
    let inTurn = false
    const server = new Promise<WebSocket>((resolve) =>
      wss.once('connection', (ws) => {
        expect(inflateInline(ws)).toBe(true)
        ws.on('message', (data: Buffer) => {
          texts.push(data.toString())
          if (!inTurn) {
            turns++
            inTurn = true
            setImmediate(() => {
              inTurn = false
            })
          }
        })
        resolve(ws)
      }),
    )
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: true })
    await new Promise((resolve) => client.once('open', resolve))
    const ws = await server
    // Five compressed messages in one write: one socket read on the server.
    const sent = Array.from({ length: 5 }, (_, i) => `message ${i} `.repeat(100))
    const bytes = Buffer.concat(sent.map((text) => Buffer.concat(frameParts(deflated(text), true, 1))))
    ;(client as unknown as { _socket: { write(b: Buffer): void } })._socket.write(bytes)
    await vi.waitFor(() => expect(texts).toHaveLength(5))
    expect(texts).toEqual(sent)
    expect(turns).toBe(1)
    const extension = (ws as unknown as { _extensions: Record<string, { _inflate?: unknown }> })._extensions[
      'permessage-deflate'
    ]
    expect(extension?._inflate ?? null).toBeNull()
    client.terminate()
    await new Promise((resolve) => wss.close(resolve))
  })
})

describe('compressed client messages', () => {
  it('reach a mixed room byte for byte alike, compressed and plain members, in order', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const members: TestClient[] = []
    for (let i = 0; i < 24; i++) members.push(await joined(server.url, 'r', i % 3 !== 2))
    const raw = members.map(() => [] as string[])
    members.forEach((m, i) => {
      m.ws.on('message', (data: Buffer) => {
        if (data.includes('"type":"message"')) raw[i]!.push(data.toString())
      })
    })
    const [publisher] = members
    const data = Array.from({ length: 300 }, (_, i) => ({ i, text: `line ${i} of the storm` }))
    // Sent back to back: the server reads several compressed frames in one chunk.
    for (let n = 1; n <= 20; n++)
      publisher!.send({ type: 'publish', room: 'r', event: 'e', data: { n, data } })
    await Promise.all(members.slice(1).map((m) => m.next('message', (msg) => msg.seq === 20)))
    const first = raw[1]!
    expect(first).toHaveLength(20)
    expect(first.map((t) => (JSON.parse(t) as { data: { n: number } }).data.n)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    for (const texts of raw.slice(2)) expect(texts).toEqual(first)
    await Promise.all(members.map((m) => m.close()))
  })

  it('joins the fragments of a compressed message, and goes on with the frames after it', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const alice = await joined(server.url, 'r', true)
    const bob = await joined(server.url, 'r', false)
    const text = JSON.stringify({ type: 'publish', room: 'r', event: 'e', data: 'fragmented '.repeat(200) })
    const body = deflated(text)
    const cut = Math.floor(body.length / 3)
    sendCompressedFrame(alice.ws, body.subarray(0, cut), false)
    sendCompressedFrame(alice.ws, body.subarray(cut, 2 * cut), false, 0)
    sendCompressedFrame(alice.ws, body.subarray(2 * cut), true, 0)
    alice.send({ type: 'publish', room: 'r', event: 'e', data: 'after' })
    await expect(bob.next('message', (m) => m.seq === 1)).resolves.toMatchObject({
      data: 'fragmented '.repeat(200),
    })
    await expect(bob.next('message', (m) => m.seq === 2)).resolves.toMatchObject({ data: 'after' })
    await Promise.all([alice.close(), bob.close()])
  })

  it('closes with 1009 a message that inflates past maxMessageBytes', async () => {
    await using server = await startTestServer({ perMessageDeflate: true, maxMessageBytes: 4096 })
    const alice = new TestClient(server.url, COMPRESSING)
    await alice.next('welcome')
    // About 100 bytes on the wire, 20 KB inflated.
    alice.send({ type: 'publish', room: 'r', event: 'e', data: 'x'.repeat(20_000) })
    expect((await alice.closed).code).toBe(1009)
  })

  it('closes with 1007 a compressed frame that is not DEFLATE data', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const alice = new TestClient(server.url, COMPRESSING)
    await alice.next('welcome')
    sendCompressedFrame(alice.ws, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01]))
    expect((await alice.closed).code).toBe(1007)
  })

  it('is left to ws where it cannot apply: no compression, or no ws internals', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    expect(inflateInline(alice.ws)).toBe(false)
    expect(inflateInline({})).toBe(false)
  })
})
