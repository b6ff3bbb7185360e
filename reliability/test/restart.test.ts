import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Client, createClient, type ResyncInfo, type Room, type RoomMessage } from '@roomwire/client'
import {
  createMemoryAdapter,
  createRoomServer,
  fileState,
  type RoomAdapter,
  type RoomServer,
} from '@roomwire/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { report } from './support/budget'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Full-jitter backoff scaled down: the first retry is uniform in [0, INITIAL_MS], later ones wider. */
const INITIAL_MS = 1000
const BUCKET_MS = 100

async function startServer(port: number, adapter?: RoomAdapter) {
  const server = createRoomServer({
    port,
    host: '127.0.0.1',
    shutdownSpreadMs: 50,
    ...(adapter === undefined ? {} : { adapter }),
  })
  const arrivals: number[] = []
  server.httpServer!.on('upgrade', () => arrivals.push(performance.now()))
  await server.ready
  return { server, port: server.address()!.port, arrivals }
}

interface Fleet {
  clients: Client[]
  rooms: Room[]
  resyncs: ResyncInfo[][]
  received: RoomMessage[][]
  /** Per client, when its last scheduled retry was due (client clock, Date.now): the one that got back in. */
  plannedRetry: number[]
}

function fleet(port: number, count: number, random: () => number = Math.random): Fleet {
  const f: Fleet = { clients: [], rooms: [], resyncs: [], received: [], plannedRetry: [] }
  for (let i = 0; i < count; i++) {
    const client = createClient({
      url: `ws://127.0.0.1:${port}/ws`,
      reconnect: { initialMs: INITIAL_MS, factor: 2, maxMs: 2 * INITIAL_MS },
      random,
      logger: { error: () => {} },
    })
    client.on('status', (snapshot) => {
      if (snapshot.retryAt !== null) f.plannedRetry[i] = snapshot.retryAt
    })
    const room = client.join('lobby')
    f.resyncs.push([])
    f.received.push([])
    room.on('resync', (info) => f.resyncs[i]!.push(info))
    room.onMessage((m) => f.received[i]!.push(m))
    f.clients.push(client)
    f.rooms.push(room)
  }
  cleanup.push(() => {
    for (const client of f.clients) client.close()
  })
  return f
}

/** Restart: graceful close (1001 spread over shutdownSpreadMs), then a new server on the same port. */
async function restart(first: RoomServer, port: number, adapter?: RoomAdapter) {
  const closedAt = performance.now()
  const closedAtWall = Date.now()
  await first.close({ timeoutMs: 2000 })
  const second = await startServer(port, adapter)
  cleanup.push(() => second.server.close({ timeoutMs: 1000 }))
  return { ...second, closedAt, closedAtWall }
}

/** Arrivals per bucket after `from`. */
function buckets(arrivals: number[], from: number): number[] {
  const counts: number[] = []
  for (const t of arrivals) {
    const b = Math.floor((t - from) / BUCKET_MS)
    counts[b] = (counts[b] ?? 0) + 1
  }
  return Array.from(counts, (n) => n ?? 0)
}

/**
 * Most arrivals one bucket may take. After the restart each client's next attempt is drawn uniformly from
 * [0, cap] with cap >= INITIAL_MS, so it lands in a given bucket with probability p <= BUCKET_MS / INITIAL_MS
 * whatever happened before (and at most one attempt per client reaches the new server). A bucket's count is
 * then at most Binomial(n, p): allow its mean plus four standard deviations.
 */
function maxPerBucket(n: number): number {
  const p = BUCKET_MS / INITIAL_MS
  return Math.ceil(n * p + 4 * Math.sqrt(n * p * (1 - p)))
}

describe('restart', () => {
  it('200 clients reconnect spread out by jitter, resume the same epoch, and get no resync after a graceful restart with a state file', async () => {
    const N = 200
    // As the reference server's --state-file: the room's epoch, seq and history outlive the process.
    const file = join(mkdtempSync(join(tmpdir(), 'roomwire-restart-')), 'state.jsonl')
    const persistent = () => createMemoryAdapter({ persist: fileState(file) })
    const first = await startServer(0, persistent())
    const f = fleet(first.port, N)
    await Promise.all(f.rooms.map((room) => room.ready))
    const epoch = (await first.server.roomInfo('lobby'))!.epoch
    await f.rooms[0]!.publish('e', 'before')
    await vi.waitFor(() => expect(f.received.every((r) => r.length === 1)).toBe(true))

    const second = await restart(first.server, first.port, persistent())
    await vi.waitFor(() => expect(f.clients.every((c) => c.status === 'open')).toBe(true), {
      timeout: 15_000,
    })
    await vi.waitFor(() => expect(f.rooms.every((r) => r.status === 'joined')).toBe(true), { timeout: 5000 })
    await vi.waitFor(async () => expect((await second.server.roomInfo('lobby'))?.memberCount).toBe(N))

    const counts = buckets(second.arrivals, second.closedAt)
    const planned = buckets(f.plannedRetry, second.closedAtWall)
    const limit = maxPerBucket(N)
    const spanMs = Math.max(...second.arrivals) - Math.min(...second.arrivals)
    report('restart: 200 clients', {
      clients: N,
      arrivals: second.arrivals.length,
      bucketMs: BUCKET_MS,
      maxBucket: Math.max(...counts),
      maxBucketShare: Math.round((Math.max(...counts) / N) * 1000) / 10,
      limit,
      spanMs: Math.round(spanMs),
      perBucket: counts.join(' '),
      plannedMaxBucket: Math.max(...planned),
      plannedPerBucket: planned.join(' '),
    })
    expect(second.arrivals).toHaveLength(N)
    expect(f.plannedRetry.filter((t) => t >= second.closedAtWall)).toHaveLength(N)
    expect(Math.max(...counts)).toBeLessThanOrEqual(limit)
    expect(Math.max(...planned)).toBeLessThanOrEqual(limit)
    // The room was saved after the notice and after every ack (PROTOCOL.md, `system`), and restored: the
    // same epoch, every client recovered, nothing to refetch.
    expect((await second.server.roomInfo('lobby'))!.epoch).toBe(epoch)
    expect(f.rooms.every((room) => room.getSnapshot().epoch === epoch)).toBe(true)
    expect(f.resyncs.flat()).toEqual([])
    await expect(f.rooms[5]!.publish('e', 'after')).resolves.toEqual({ seq: 2 })
    await vi.waitFor(() => expect(f.received.every((r) => r.length === 2)).toBe(true))
    expect(f.received.every((r) => r[1]!.seq === 2 && r[1]!.data === 'after')).toBe(true)
  }, 60_000)

  it('without jitter the same restart is a herd that breaks the bound (control)', async () => {
    const N = 200
    const first = await startServer(0)
    // random() ≈ 1: every client waits exactly the cap, so they all come back on the same beat.
    const f = fleet(first.port, N, () => 0.999)
    await Promise.all(f.rooms.map((room) => room.ready))
    const second = await restart(first.server, first.port)
    await vi.waitFor(() => expect(f.clients.every((c) => c.status === 'open')).toBe(true), {
      timeout: 15_000,
    })
    const counts = buckets(second.arrivals, second.closedAt)
    const planned = buckets(f.plannedRetry, second.closedAtWall)
    report('restart: control without jitter', {
      clients: N,
      maxBucket: Math.max(...counts),
      plannedMaxBucket: Math.max(...planned),
      limit: maxPerBucket(N),
    })
    // The schedule itself is a herd: the 50 ms shutdown spread alone cannot spread 200 clients.
    expect(Math.max(...planned)).toBeGreaterThan(maxPerBucket(N))
  }, 60_000)

  it('with a store that outlives the process, clients resume with since and miss nothing', async () => {
    const N = 50
    // The store survives the restart (as Redis would): the first server's close must not clear it.
    const store = createMemoryAdapter()
    const durable: RoomAdapter = Object.assign(Object.create(store) as RoomAdapter, { close: async () => {} })
    const first = await startServer(0, durable)
    const f = fleet(first.port, N)
    await Promise.all(f.rooms.map((room) => room.ready))
    for (let i = 0; i < 10; i++) await first.server.broadcast('lobby', 'e', i)
    const second = await restart(first.server, first.port, durable)
    // Published while the clients are still away: they get these by replay, the rest live.
    for (let i = 10; i < 30; i++) await second.server.broadcast('lobby', 'e', i)
    await vi.waitFor(() => expect(f.rooms.every((r) => r.status === 'joined')).toBe(true), {
      timeout: 15_000,
    })
    await second.server.broadcast('lobby', 'e', 30)
    await vi.waitFor(() => expect(f.received.every((r) => r.length === 31)).toBe(true))
    for (const list of f.received) {
      expect(list.map((m) => [m.seq, m.data])).toEqual(Array.from({ length: 31 }, (_, i) => [i + 1, i]))
    }
    expect(f.resyncs.flat()).toEqual([])
    report('restart: durable store', {
      clients: N,
      replayedAndLive: 31,
      resyncs: 0,
      arrivals: second.arrivals.length,
    })
  }, 60_000)
})
