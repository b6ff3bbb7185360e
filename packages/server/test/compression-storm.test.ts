import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startTestServer } from './helpers'

// Issue 20's compression storm on real sockets, with the server's defaults but permessage-deflate on:
// 150 clients offering compression and 50 not, in one room of 200, each publishing 10 messages of 2,000
// bytes at once. Before the fix every compressed member was closed (1006, its 4008 stuck behind ws's
// compression queue); now every member gets every other member's messages and nobody is closed. Not timed.

const CLIENTS = 200
const COMPRESSED = 150
const PUBLISHES = 10
const TEXT = 'the room message hello world typing chat reply thanks '.repeat(40).slice(0, 2000)

interface Member {
  ws: WebSocket
  received: number
  closed: number | undefined
}

function join(url: string, deflate: boolean): Promise<Member> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'roomwire.v1', { perMessageDeflate: deflate })
    const member: Member = { ws, received: 0, closed: undefined }
    ws.on('message', (raw: Buffer) => {
      // Counted from the bytes: 200 parsers of 400,000 messages would be the test's own storm.
      if (raw.includes('"type":"message"')) member.received++
      else if (raw.includes('"type":"welcome"'))
        ws.send(JSON.stringify({ type: 'join', room: 'storm', ref: 1 }))
      else if (raw.includes('"type":"joined"')) resolve(member)
    })
    ws.on('close', (code) => {
      member.closed = code
      reject(new Error(`closed with ${code} before joining`))
    })
    ws.on('error', reject)
  })
}

describe('a compression storm', () => {
  it('delivers every message to every member, with 150 of 200 compressing, and closes nobody', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const members: Member[] = []
    for (let i = 0; i < CLIENTS; i++) members.push(await join(server.url, i < COMPRESSED))
    expect(members.filter((m) => m.ws.extensions.includes('permessage-deflate'))).toHaveLength(COMPRESSED)
    const expected = (CLIENTS - 1) * PUBLISHES
    const settled = new Promise<void>((resolve) => {
      const check = () => {
        if (members.every((m) => m.received >= expected || m.closed !== undefined)) resolve()
      }
      for (const m of members) {
        m.ws.on('message', check)
        m.ws.on('close', check)
      }
    })
    for (let n = 0; n < PUBLISHES; n++) {
      for (const m of members) {
        m.ws.send(JSON.stringify({ type: 'publish', room: 'storm', event: 'chat', data: { n, text: TEXT } }))
      }
    }
    await settled
    expect(members.filter((m) => m.closed !== undefined).map((m) => m.closed)).toEqual([])
    expect(members.map((m) => m.received)).toEqual(members.map(() => expected))
    for (const m of members) m.ws.terminate()
  }, 120_000)
})
