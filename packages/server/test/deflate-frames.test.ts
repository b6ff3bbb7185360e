import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { PER_MESSAGE_DEFLATE } from '../src/compression'
import { deflatedFrame, FrameSet, frameHeader, sharedDeflate } from '../src/deflate-frames'

// One compressed frame made ahead (src/deflate-frames.ts), written as is to sockets that negotiated
// permessage-deflate, must reach a real ws client (which inflates it) exactly as the text it was made of.

const servers: WebSocketServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

async function pair(clientDeflate: boolean | object): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: PER_MESSAGE_DEFLATE })
  servers.push(wss)
  await new Promise((r) => wss.once('listening', r))
  const port = (wss.address() as AddressInfo).port
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', r))
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: clientDeflate })
  await new Promise((r) => client.once('open', r))
  return { server: await accepted, client }
}

function plainFrame(text: string): { plain: Buffer; payload: Buffer } {
  const payload = Buffer.from(text)
  const header = frameHeader(payload.length, false)
  const plain = Buffer.concat([header, payload])
  return { plain, payload: plain.subarray(header.length) }
}

function writeFrame(ws: WebSocket, frame: Buffer): void {
  ;(ws as unknown as { _sender: { sendFrame(list: Buffer[]): void } })._sender.sendFrame([frame])
}

const texts = [
  '',
  'short',
  'ü'.repeat(700), // 1,400 bytes: over the threshold, 16-bit length once compressed or not
  JSON.stringify({ data: Array.from({ length: 3000 }, (_, i) => `member ${i} ✓`) }), // 64-bit plain length
  JSON.stringify({ noise: Array.from({ length: 400 }, (_, i) => ((i * 2654435761) >>> 0).toString(36)) }),
]

describe('compressed frames made once', () => {
  it('reads the negotiated window, and nothing without permessage-deflate', async () => {
    const compressed = await pair(true)
    expect(sharedDeflate(compressed.server)).toEqual({ windowBits: 11 })
    const plain = await pair(false)
    expect(sharedDeflate(plain.server)).toBeUndefined()
    expect(sharedDeflate({})).toBeUndefined()
    compressed.client.terminate()
    plain.client.terminate()
  })

  it('reach a real client intact, in order, for every length encoding', async () => {
    const { server, client } = await pair({ threshold: 0 })
    const params = sharedDeflate(server)
    const got: string[] = []
    const all = new Promise<void>((resolve) =>
      client.on('message', (m: Buffer) => {
        got.push(m.toString())
        if (got.length === texts.length * 2) resolve()
      }),
    )
    for (const text of texts) {
      const { plain, payload } = plainFrame(text)
      const set = new FrameSet(plain, payload)
      const frame = set.for(params)
      // Made once per window: the same Buffer for the next member.
      expect(set.for(params)).toBe(frame)
      writeFrame(server, frame)
      writeFrame(server, set.plain)
    }
    await all
    expect(got).toEqual(texts.flatMap((t) => [t, t]))
    client.terminate()
  })

  it('compresses what is large and repetitive, and leaves short or incompressible text plain', () => {
    const params = { windowBits: 11 }
    const big = plainFrame(texts[3]!)
    expect(new FrameSet(big.plain, big.payload).for(params).length).toBeLessThan(big.plain.length / 4)
    expect(new FrameSet(big.plain, big.payload).for(params)[0]).toBe(0xc1)
    const short = plainFrame('short')
    expect(new FrameSet(short.plain, short.payload).for(params)).toBe(short.plain)
    expect(new FrameSet(big.plain, big.payload).for(undefined)).toBe(big.plain)
    const payload = Buffer.from(texts[2]!)
    expect(deflatedFrame(payload, 11)[0]).toBe(0xc1)
  })
})
