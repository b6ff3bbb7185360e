import type { AddressInfo } from 'node:net'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Client, createClient } from '../../src/index'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function startServer(): Promise<RoomServer & { port: number }> {
  const server = createRoomServer({
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    rateLimitPerSec: 0,
    authenticate: (req) => ({ user: String(req.headers['x-user'] ?? 'anonymous') }),
  })
  await server.ready
  cleanup.push(() => server.close({ timeoutMs: 500 }))
  return Object.assign(server, { port: (server.address() as AddressInfo).port })
}

function connect(port: number, user: string): Client {
  class Named extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-user': user } })
    }
  }
  const client = createClient({
    url: `ws://127.0.0.1:${port}/ws`,
    WebSocket: Named,
    logger: { error: () => {} },
  })
  cleanup.push(() => client.close())
  return client
}

describe('room.history() against the real server', () => {
  it('pages back from the oldest delivered message, typed like live ones, with who wrote each', async () => {
    const server = await startServer()
    const alice = connect(server.port, 'alice')
    const room = alice.join('general')
    await room.ready
    for (let i = 1; i <= 30; i++) await room.publish('chat', { n: i })
    // A second member joins late with the last 5 replayed: its pages start below them.
    const bob = connect(server.port, 'bob')
    const late = bob.join('general', { history: 5 })
    await late.ready
    await expect.poll(() => late.getSnapshot().seq).toBe(30)
    const first = await late.history({ limit: 10 })
    expect(first.more).toBe(true)
    expect(first.epoch).toBe(late.getSnapshot().epoch)
    expect(first.messages.map((m) => m.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25])
    expect(first.messages[0]).toMatchObject({ event: 'chat', data: { n: 16 }, user: 'alice', own: false })
    const rest = await late.history({ before: 16, limit: 50 })
    expect([rest.messages.map((m) => m.seq), rest.more]).toEqual([
      Array.from({ length: 15 }, (_, i) => i + 1),
      false,
    ])
    // Alice's own messages come back marked as hers.
    const own = await room.history({ before: 3 })
    expect(own.messages.map((m) => [m.seq, m.own])).toEqual([
      [1, true],
      [2, true],
    ])
  })

  it('rejects with not_connected before the room is joined, and pages nothing below seq 1', async () => {
    const server = await startServer()
    const alice = connect(server.port, 'alice')
    const room = alice.join('quiet')
    await expect(room.history()).rejects.toMatchObject({ code: 'not_connected' })
    await room.ready
    await expect(room.history({ before: 1 })).resolves.toMatchObject({ messages: [], more: false })
  })
})
