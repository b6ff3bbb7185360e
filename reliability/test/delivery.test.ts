import type { AddressInfo } from 'node:net'
import { type Client, createClient, type RoomMessage } from '@roomwire/client'
import { createRoomServer } from '@roomwire/server'
import { describe, expect, it, vi } from 'vitest'
import { report } from './support/budget'
import { startChaosProxy } from './support/chaos-proxy'

const MESSAGES = 5000
const SUBSCRIBERS = 20

describe('delivery under faults', () => {
  it('gives every client every message exactly once, in seq order, while a chaos proxy cuts connections', async () => {
    const server = createRoomServer({
      port: 0,
      host: '127.0.0.1',
      // History covers the whole run, so every gap can be replayed; a shorter one is the resync test's job.
      historySize: MESSAGES + 100,
      rateLimitPerSec: 0,
      pingIntervalMs: 1000,
      pongTimeoutMs: 1000,
    })
    await server.ready
    const proxy = await startChaosProxy((server.address() as AddressInfo).port)
    const url = `ws://127.0.0.1:${proxy.port}/ws`
    const clients: Client[] = []
    const welcomes: number[] = []
    const resyncs: number[] = []
    const connect = (i: number) => {
      const client = createClient({
        url,
        reconnect: { initialMs: 20, maxMs: 250 },
        heartbeat: { intervalMs: 500, timeoutMs: 1000 },
        connectTimeoutMs: 2000,
        ackTimeoutMs: 60_000,
        logger: { error: () => {} },
      })
      welcomes[i] = 0
      resyncs[i] = 0
      client.on('welcome', () => {
        welcomes[i]!++
      })
      clients.push(client)
      return client
    }
    let chaos: ReturnType<typeof setInterval> | undefined
    try {
      const received: RoomMessage[][] = []
      const rooms = Array.from({ length: SUBSCRIBERS }, (_, i) => {
        const room = connect(i).join('feed')
        received[i] = []
        room.onMessage((m) => received[i]!.push(m))
        room.on('resync', () => {
          resyncs[i]!++
        })
        return room
      })
      const publisherRoom = connect(SUBSCRIBERS).join('feed')
      await Promise.all([...rooms, publisherRoom].map((room) => room.ready))

      proxy.joinCutProbability = 0.25
      chaos = setInterval(() => {
        proxy.cutRandom(Math.random() < 0.5 ? 'abrupt' : 'midFrame')
      }, 40)

      const started = performance.now()
      const window = new Set<Promise<unknown>>()
      for (let i = 0; i < MESSAGES; i++) {
        const p = publisherRoom.publish('tick', { i }).finally(() => window.delete(p))
        window.add(p)
        if (window.size >= 50) await Promise.race(window)
        // Paced at about 500 a second, so the chaos has ten seconds to work on.
        if (i % 25 === 24) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await Promise.all(window)
      const publishMs = performance.now() - started
      clearInterval(chaos)
      proxy.joinCutProbability = 0

      await vi.waitFor(() => expect(received.map((r) => r.length)).toEqual(received.map(() => MESSAGES)), {
        timeout: 30_000,
        interval: 100,
      })
      const expected = Array.from({ length: MESSAGES }, (_, k) => [k + 1, k])
      for (const list of received) {
        expect(list.map((m) => [m.seq, (m.data as { i: number }).i])).toEqual(expected)
      }
      expect(resyncs).toEqual(resyncs.map(() => 0))
      const reconnects = welcomes.reduce((sum, n) => sum + n - 1, 0)
      report('delivery: chaos proxy', {
        subscribers: SUBSCRIBERS,
        messages: MESSAGES,
        reconnects,
        publisherReconnects: welcomes[SUBSCRIBERS]! - 1,
        cuts: proxy.cuts,
        proxiedConnections: proxy.connections,
        publishSeconds: Math.round(publishMs / 100) / 10,
        totalSeconds: Math.round((performance.now() - started) / 100) / 10,
      })
      expect(proxy.cuts.abrupt).toBeGreaterThan(0)
      expect(proxy.cuts.midFrame).toBeGreaterThan(0)
      expect(proxy.cuts.duringJoin).toBeGreaterThan(0)
      expect(reconnects).toBeGreaterThan(10)
    } finally {
      clearInterval(chaos)
      for (const client of clients) client.close()
      await proxy.close()
      await server.close({ timeoutMs: 1000 })
    }
  }, 90_000)
})
