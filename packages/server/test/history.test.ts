import { describe, expect, it } from 'vitest'
import { HistoryRing } from '../src/history'
import { type BudgetedHistory, HistoryBudget } from '../src/history-budget'
import { createMemoryAdapter, RoomServerError } from '../src/index'
import { msg, pushMessage, seqsOf, startTestServer, type TestClient } from './helpers'
import { manualClock } from './manual-clock'

/** A frame of about `bytes` bytes for message `seq`. */
const frame = (seq: number, bytes: number) => JSON.stringify({ ...msg(seq), data: 'x'.repeat(bytes - 80) })

const room = (capacity: number, maxBytes?: number): BudgetedHistory => ({
  history: new HistoryRing(capacity, maxBytes),
  older: undefined,
  newer: undefined,
  listed: false,
})

async function publishN(
  client: TestClient,
  target: string,
  n: number,
  data: string | number = 0,
): Promise<void> {
  for (let i = 0; i < n; i++) await client.request({ type: 'publish', room: target, event: 'e', data })
}

describe('HistoryRing with a byte budget', () => {
  it('drops the oldest messages while its frames are over the byte budget', () => {
    const ring = new HistoryRing(100, 1000)
    for (let seq = 1; seq <= 10; seq++) ring.push(seq, frame(seq, 300))
    expect(seqsOf(ring.last(100))).toEqual([8, 9, 10])
    expect(ring.bytes).toBeLessThanOrEqual(1000)
    expect(ring.since(7, 10)).toEqual({ recovered: true, frames: ring.last(3) })
    expect(ring.since(6, 10)).toEqual({ recovered: false })
  })

  it('holds nothing older than a message larger than its byte budget, nor that message', () => {
    const ring = new HistoryRing(100, 1000)
    for (let seq = 1; seq <= 2; seq++) ring.push(seq, frame(seq, 300))
    ring.push(3, frame(3, 2000), 'big')
    expect(ring.size).toBe(0)
    expect(ring.bytes).toBe(0)
    expect(ring.seqOfId('big')).toBeUndefined()
    expect(ring.since(2, 3)).toEqual({ recovered: false })
    ring.push(4, frame(4, 300))
    expect(seqsOf(ring.after(0))).toEqual([4])
  })

  it('forgets the ids of messages dropped for bytes, and keeps those of held ones', () => {
    const ring = new HistoryRing(100, 1000)
    for (let seq = 1; seq <= 10; seq++) ring.push(seq, frame(seq, 300), `m${seq}`)
    expect(ring.seqOfId('m7')).toBeUndefined()
    expect(ring.seqOfId('m8')).toBe(8)
    expect(ring.seqOfId('m10')).toBe(10)
  })

  it('stays in order through many wraps and compactions', () => {
    const ring = new HistoryRing(5)
    for (let seq = 1; seq <= 1000; seq++) pushMessage(ring, msg(seq, seq % 3 === 0 ? `m${seq}` : undefined))
    expect(seqsOf(ring.last(5))).toEqual([996, 997, 998, 999, 1000])
    expect(ring.seqOfId('m999')).toBe(999)
    expect(ring.seqOfId('m993')).toBeUndefined()
  })
})

describe('HistoryBudget', () => {
  it('takes the oldest messages of the least recently used room first once the total is over', () => {
    const budget = new HistoryBudget(2000)
    const a = room(100)
    const b = room(100)
    for (let seq = 1; seq <= 3; seq++) budget.push(a, seq, frame(seq, 300))
    for (let seq = 1; seq <= 3; seq++) budget.push(b, seq, frame(seq, 300))
    budget.push(b, 4, frame(4, 300))
    expect(budget.bytes).toBeLessThanOrEqual(2000)
    expect(seqsOf(a.history.after(0))).toEqual([2, 3])
    expect(seqsOf(b.history.after(0))).toEqual([1, 2, 3, 4])
    expect(budget.evicted).toBe(1)
  })

  it('spares a room that was touched (joined) more recently, and releases the bytes of a freed room', () => {
    const budget = new HistoryBudget(2000)
    const [a, b, c] = [room(100), room(100), room(100)]
    for (const r of [a, b, c]) for (let seq = 1; seq <= 2; seq++) budget.push(r, seq, frame(seq, 300))
    budget.touch(a)
    budget.push(c, 3, frame(3, 300))
    expect([a.history.size, b.history.size, c.history.size]).toEqual([2, 1, 3])
    budget.release(a)
    expect(budget.bytes).toBe(b.history.bytes + c.history.bytes)
    for (let seq = 4; seq <= 6; seq++) budget.push(c, seq, frame(seq, 300))
    expect([b.history.size, c.history.size]).toEqual([0, 6])
  })
})

describe('the memory adapter', () => {
  it('refuses an option that is not a positive integer', () => {
    expect(() => createMemoryAdapter({ maxIdleRooms: 0 })).toThrow(RoomServerError)
    expect(() => createMemoryAdapter({ maxHistoryBytes: 1.5 })).toThrow(/maxHistoryBytes/)
  })

  it('publishes a repeated id again once the process budget dropped its message', async () => {
    const adapter = createMemoryAdapter({ maxHistoryBytes: 64 * 1024 })
    await using server = await startTestServer({ adapter, rateLimitPerSec: 0 })
    await using alice = await server.connect({ join: 'a' })
    await alice.request({ type: 'join', room: 'b' })
    const data = 'x'.repeat(10_000)
    expect(await alice.request({ type: 'publish', room: 'a', event: 'e', data, id: 'once' })).toMatchObject({
      seq: 1,
    })
    expect(await alice.request({ type: 'publish', room: 'a', event: 'e', data, id: 'once' })).toMatchObject({
      seq: 1,
    })
    // Room b fills the process budget: room a, used least recently, loses its message and its id.
    await publishN(alice, 'b', 7, data)
    expect(await alice.request({ type: 'publish', room: 'a', event: 'e', data, id: 'once' })).toMatchObject({
      seq: 2,
    })
    expect(adapter.stats?.().historyBytes).toBeLessThanOrEqual(64 * 1024)
  })

  it("keeps a room's history within historyMaxBytes and replays only what it holds", async () => {
    await using server = await startTestServer({ historyMaxBytes: 50_000, rateLimitPerSec: 0 })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 20, 'x'.repeat(10_000))
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'r', history: 100 })
    await expect(bob.next('joined')).resolves.toMatchObject({ seq: 20, replay: 4 })
    await bob.next('message', (m) => m.seq === 20)
    expect(bob.received('message').map((m) => m.seq)).toEqual([17, 18, 19, 20])
  })
})

describe('idle rooms', () => {
  it('keeps at most maxIdleRooms, freeing the one empty longest first, and counts them in /health', async () => {
    const adapter = createMemoryAdapter({ maxIdleRooms: 3 })
    await using server = await startTestServer({ adapter, rateLimitPerSec: 0 })
    await using alice = await server.connect()
    for (const name of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      await alice.request({ type: 'join', room: name })
      await alice.request({ type: 'leave', room: name })
    }
    expect(await server.server.roomInfo('r1')).toBeNull()
    expect(await server.server.roomInfo('r2')).toBeNull()
    expect(await server.server.roomInfo('r3')).not.toBeNull()
    const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as Record<string, unknown>
    expect(health).toMatchObject({ rooms: 0, idleRooms: 3 })
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/^roomwire_idle_rooms 3$/m)
    expect(metrics).toMatch(/^roomwire_idle_rooms_evicted_total 2$/m)
  })

  it('gives a client coming back to a freed idle room a new epoch and recovered: false', async () => {
    const adapter = createMemoryAdapter({ maxIdleRooms: 1 })
    await using server = await startTestServer({ adapter })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 2)
    const { epoch } = alice.received('joined')[0]!
    await alice.request({ type: 'leave', room: 'r' })
    await alice.request({ type: 'join', room: 'other' })
    await alice.request({ type: 'leave', room: 'other' })
    alice.send({ type: 'join', room: 'r', since: 2, epoch, ref: 'back' })
    const joined = await alice.next('joined', (m) => m.ref === 'back')
    expect(joined).toMatchObject({ seq: 0, recovered: false })
    expect(joined.epoch).not.toBe(epoch)
  })

  it('does not count a room that has members, and takes a room out of the count when it is joined again', async () => {
    const adapter = createMemoryAdapter({ maxIdleRooms: 2 })
    await using server = await startTestServer({ adapter })
    await using alice = await server.connect({ join: 'busy' })
    await alice.request({ type: 'join', room: 'quiet' })
    await alice.request({ type: 'leave', room: 'quiet' })
    expect(adapter.stats?.().idleRooms).toBe(1)
    await alice.request({ type: 'join', room: 'quiet' })
    expect(adapter.stats?.().idleRooms).toBe(0)
    await server.server.broadcast('nobody-here', 'e', 1)
    expect(adapter.stats?.().idleRooms).toBe(1)
  })

  it('frees each idle room after the idle timeout with one timer', async () => {
    const clock = manualClock()
    const adapter = createMemoryAdapter({ clock })
    await using server = await startTestServer({ adapter, idleTimeoutMs: 100 })
    await using alice = await server.connect()
    for (const name of ['a', 'b', 'c']) {
      await alice.request({ type: 'join', room: name })
      await alice.request({ type: 'leave', room: name })
      clock.advance(10)
    }
    // Emptied at 0, 10 and 20 ms: one timer waits for the first.
    expect(clock.pending).toBe(1)
    clock.advance(69)
    expect(await server.server.roomInfo('a')).not.toBeNull()
    clock.advance(1)
    expect(await server.server.roomInfo('a')).toBeNull()
    expect(await server.server.roomInfo('b')).not.toBeNull()
    clock.advance(20)
    for (const name of ['b', 'c']) expect(await server.server.roomInfo(name)).toBeNull()
    expect(clock.pending).toBe(0)
  })
})
