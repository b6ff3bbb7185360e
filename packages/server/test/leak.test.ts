import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { startTestServer } from './helpers'

/** One connect, join, publish (acked), disconnect cycle on a bare ws client. */
function cycle(url: string, room: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['roomwire.v1'])
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; ref?: number }
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room, ref: 1 }))
      else if (m.type === 'joined')
        ws.send(JSON.stringify({ type: 'publish', room, event: 'e', data: { n: 1 }, ref: 2 }))
      else if (m.type === 'ack' && m.ref === 2) ws.close()
    })
    ws.on('close', () => resolve())
  })
}

async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) {
    gc?.()
    await delay(10)
  }
  return process.memoryUsage().heapUsed
}

describe('leaks', () => {
  it('leaves no connection, room or heap growth after 10,000 connect, join, publish, disconnect cycles', async () => {
    await using server = await startTestServer({ idleTimeoutMs: 100, rateLimitPerSec: 0 })
    const run = async (cycles: number) => {
      const batch = 250
      for (let start = 0; start < cycles; start += batch) {
        await Promise.all(
          Array.from({ length: Math.min(batch, cycles - start) }, (_, i) =>
            cycle(server.url, `leak-${(start + i) % 50}`),
          ),
        )
      }
      await vi.waitFor(() => expect(server.server.connections()).toHaveLength(0))
    }
    await run(1000)
    const baseline = await heapAfterGc()
    await run(10_000)
    expect(server.server.connections()).toEqual([])
    await vi.waitFor(async () => expect(await server.server.rooms()).toEqual([]))
    const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as {
      rooms: number
      connections: number
    }
    expect(health).toMatchObject({ connections: 0, rooms: 0 })
    // Idle rooms are freed after the idle timeout.
    await vi.waitFor(async () => expect(await server.server.roomInfo('leak-0')).toBeNull(), { timeout: 2000 })
    const after = await heapAfterGc()
    expect(after - baseline).toBeLessThan(8 * 1024 * 1024)
  }, 60_000)
})
