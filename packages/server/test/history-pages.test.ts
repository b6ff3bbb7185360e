import type { HistoryMessage, RoomEventMessage } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import type { RoomServerOptions } from '../src/index'
import { startTestServer, type TestClient } from './helpers'

const authenticate: RoomServerOptions['authenticate'] = (req) => {
  const user = req.headers['x-user']
  return typeof user === 'string' ? { user } : {}
}

async function publishN(
  client: TestClient,
  room: string,
  n: number,
  data: (i: number) => string | number = (i) => i,
) {
  for (let i = 1; i <= n; i++) await client.request({ type: 'publish', room, event: 'chat', data: data(i) })
}

async function page(client: TestClient, request: { room: string; before?: number; limit?: number }) {
  return (await client.request({ type: 'history', ref: 0, ...request })) as HistoryMessage
}

const seqs = (m: HistoryMessage) => m.messages.map((x) => x.seq)

describe('history pages over the wire (memory adapter)', () => {
  it('pages back through what the room holds, newest last, with more while older ones are held', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'team' })
    await publishN(alice, 'team', 10)
    const joined = alice.received('joined')[0]!
    const newest = await page(alice, { room: 'team', limit: 4 })
    expect(newest).toMatchObject({ type: 'history', room: 'team', epoch: joined.epoch, more: true })
    expect(seqs(newest)).toEqual([7, 8, 9, 10])
    const older = await page(alice, { room: 'team', before: 7, limit: 4 })
    expect([seqs(older), older.more]).toEqual([[3, 4, 5, 6], true])
    const oldest = await page(alice, { room: 'team', before: 3, limit: 4 })
    expect([seqs(oldest), oldest.more]).toEqual([[1, 2], false])
    // The messages are the live frames: the same fields, the same values.
    const live = alice.received('message')
    expect(live).toHaveLength(0) // no echo: alice saw only her acks
    expect(oldest.messages[0]).toEqual({
      type: 'message',
      room: 'team',
      event: 'chat',
      data: 1,
      from: alice.id,
      seq: 1,
      ts: expect.any(Number),
    })
  })

  it('defaults to 50 messages and clamps a larger limit to historyPageMax', async () => {
    await using server = await startTestServer({ historyPageMax: 60, rateLimitPerSec: 0 })
    await using alice = await server.connect({ join: 'big' })
    await publishN(alice, 'big', 80)
    expect(seqs(await page(alice, { room: 'big' }))).toHaveLength(50)
    const clamped = await page(alice, { room: 'big', limit: 1000 })
    expect(seqs(clamped)).toEqual(Array.from({ length: 60 }, (_, i) => i + 21))
    expect(clamped.more).toBe(true)
  })

  it('fits a page into maxMessageBytes, keeping the newest messages and saying more', async () => {
    await using server = await startTestServer({ maxMessageBytes: 4096 })
    await using alice = await server.connect({ join: 'wide' })
    await publishN(alice, 'wide', 6, () => 'x'.repeat(1000))
    const reply = await page(alice, { room: 'wide', limit: 6 })
    const raw = JSON.stringify(reply)
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(4096)
    expect(seqs(reply)).toEqual([4, 5, 6])
    expect(reply.more).toBe(true)
  })

  it('refuses a room the connection has not joined with not_joined, and the connection stays', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'team' })
    await using bob = await server.connect()
    expect(await bob.request({ type: 'history', room: 'team', ref: 'h1' })).toMatchObject({
      type: 'error',
      code: 'not_joined',
      ref: 'h1',
    })
    expect(await bob.request({ type: 'ping', ref: 'p' })).toMatchObject({ type: 'pong' })
    await alice.close()
  })

  it('refuses a history without ref as a bad_request naming it', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'team' })
    alice.send({ type: 'history', room: 'team' })
    await expect(alice.next('error')).resolves.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('ref:'),
    })
  })

  it('carries the publisher user on live and paged messages, so history shows who wrote what', async () => {
    await using server = await startTestServer({ authenticate })
    await using alice = await server.connect({ join: 'team', headers: { 'x-user': 'alice' } })
    await using anonymous = await server.connect({ join: 'team' })
    await alice.request({ type: 'publish', room: 'team', event: 'chat', data: 'hi' })
    const live = await anonymous.next('message')
    expect(live).toMatchObject({ user: 'alice', from: alice.id })
    await anonymous.request({ type: 'publish', room: 'team', event: 'chat', data: 'hey' })
    await alice.close()
    const reply = await page(anonymous, { room: 'team' })
    expect(reply.messages.map((m: RoomEventMessage) => [m.data, m.user])).toEqual([
      ['hi', 'alice'],
      ['hey', undefined],
    ])
    expect('user' in reply.messages[1]!).toBe(false)
  })
})
