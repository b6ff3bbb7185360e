import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createMemoryAdapter } from '../src/index'
import { startTestServer } from './helpers'

// The attacks of issue 12, scaled down to run in seconds, each against the bound that now holds.

async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc (the server project does)')
  for (let i = 0; i < 3; i++) {
    gc()
    await delay(10)
  }
  return process.memoryUsage().heapUsed
}

const MiB = 1024 * 1024

describe('memory under the room-churn attacks of issue 12', () => {
  it('holds history of 60 KB messages in many rooms within the process history budget', async () => {
    const maxHistoryBytes = 16 * MiB
    const adapter = createMemoryAdapter({ maxHistoryBytes })
    // Rooms may hold all 100 messages each: only the process budget bounds them here.
    await using server = await startTestServer({ adapter, historyMaxBytes: 8 * MiB, rateLimitPerSec: 0 })
    await using attacker = await server.connect()
    // `[{},{},…]`: 60 KB of text that cost 1.28 MB of heap as parsed objects.
    const data = `[${Array.from({ length: 20_000 }, () => '{}').join(',')}]`
    const baseline = await heapAfterGc()
    const rooms = 12
    for (let r = 0; r < rooms; r++) {
      const room = `churn-${r}`
      await attacker.request({ type: 'join', room })
      for (let i = 0; i < 100; i++) {
        attacker.sendRaw(`{"type":"publish","room":"${room}","event":"e","data":${data},"ref":${i}}`)
      }
      await attacker.next('ack', (m) => m.ref === 99, 30_000)
      await attacker.request({ type: 'leave', room })
    }
    expect(attacker.received('ack')).toHaveLength(rooms * 100)
    const stats = adapter.stats!()
    // 12 rooms x 100 x 60 KB = 72 MB were published; 16 MiB are kept, as text.
    expect(stats.historyBytes).toBeLessThanOrEqual(maxHistoryBytes)
    expect(stats.historyBytes).toBeGreaterThan(maxHistoryBytes / 2)
    expect(stats.historyEvicted).toBeGreaterThan(0)
    const grown = (await heapAfterGc()) - baseline
    expect(grown).toBeLessThan(maxHistoryBytes + 16 * MiB)
  }, 120_000)

  it('keeps at most maxIdleRooms of 20,000 distinct 128-character rooms joined and left', async () => {
    const maxIdleRooms = 1000
    const adapter = createMemoryAdapter({ maxIdleRooms })
    await using server = await startTestServer({ adapter, rateLimitPerSec: 0 })
    // Bare sockets that keep nothing of what they receive, so the heap measures the server.
    const churners = await Promise.all(Array.from({ length: 4 }, () => bareClient(server.url)))
    const name = (c: number, i: number) => `${String(c)}-${String(i)}-`.padEnd(128, 'x')
    const baseline = await heapAfterGc()
    const perChurner = 5000
    await Promise.all(
      churners.map(async (churner, c) => {
        for (let start = 0; start < perChurner; start += 500) {
          const done = churner.left(start + 499)
          for (let i = start; i < start + 500; i++) {
            churner.ws.send(JSON.stringify({ type: 'join', room: name(c, i) }))
            churner.ws.send(JSON.stringify({ type: 'leave', room: name(c, i), ref: i }))
          }
          await done
        }
      }),
    )
    expect(adapter.stats!().idleRooms).toBe(maxIdleRooms)
    expect(adapter.stats!().idleRoomsEvicted).toBe(4 * perChurner - maxIdleRooms)
    const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as Record<string, unknown>
    expect(health).toMatchObject({ rooms: 0, idleRooms: maxIdleRooms })
    expect(await server.server.roomInfo(name(0, 0))).toBeNull()
    // 20,000 rooms at about 1.35 KB each would be 27 MB; 1,000 of them are about 1.4 MB.
    const grown = (await heapAfterGc()) - baseline
    expect(grown).toBeLessThan(8 * MiB)
    for (const churner of churners) churner.ws.terminate()
  }, 120_000)
})

/** A raw socket that remembers nothing but waits for the `left` carrying a given ref. */
async function bareClient(url: string): Promise<{ ws: WebSocket; left(ref: number): Promise<void> }> {
  const ws = new WebSocket(url, ['roomwire.v1'])
  const waiting = new Map<number, () => void>()
  ws.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString()) as { type: string; ref?: number }
    if (m.type === 'left' && m.ref !== undefined) waiting.get(m.ref)?.()
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return {
    ws,
    left: (ref) => new Promise<void>((resolve) => waiting.set(ref, resolve)),
  }
}
