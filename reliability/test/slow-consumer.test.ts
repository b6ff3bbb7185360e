import { describe, expect, it, vi } from 'vitest'
import { report } from './support/budget'
import { startChildServer } from './support/child-server'
import { connectJson } from './support/json-client'
import { encodeFrame, Opcode, type RawWebSocket, rawUpgrade } from './support/ws-frames'

const MiB = 1024 * 1024
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10
const MEMBERS = 1000
const MAX_BUFFERED = 256 * 1024

describe('slow consumer', () => {
  it('closes a member that stops reading with 4008 while the other 999 keep receiving, with bounded memory', async () => {
    await using server = await startChildServer({
      maxBufferedBytes: MAX_BUFFERED,
      rateLimitPerSec: 0,
      maxConnections: MEMBERS + 10,
    })
    const publisher = await connectJson(server.url, { join: 'big' })
    const witness = await connectJson(server.url, { join: 'big' })
    const slow = await rawUpgrade(server.port)
    slow.write(encodeFrame({ opcode: Opcode.text, payload: '{"type":"join","room":"big"}' }))
    await slow.waitFor((m) => (m as { type?: string }).type === 'joined')
    // Lightweight members: raw sockets that join and count the bytes they read.
    const members: RawWebSocket[] = []
    while (members.length < MEMBERS - 3) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(250, MEMBERS - 3 - members.length) }, () =>
          rawUpgrade(server.port, { parse: false, timeoutMs: 20_000 }),
        ),
      )
      for (const member of batch)
        member.write(encodeFrame({ opcode: Opcode.text, payload: '{"type":"join","room":"big"}' }))
      members.push(...batch)
    }
    await vi.waitFor(async () => expect((await server.room('big')).memberCount).toBe(MEMBERS), {
      timeout: 20_000,
    })
    const baseline = await server.memory()
    const bytesBefore = members.map((m) => m.bytesReceived)

    const slowConsumers = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
      return Number(/^roomwire_slow_consumers_total (\d+)$/m.exec(metrics)?.[1])
    }
    slow.socket.pause()
    const payload = 'x'.repeat(16 * 1024)
    const latencies: number[] = []
    const sentAt = new Map<number, number>()
    witness.ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; data?: { n: number } }
      if (m.type === 'message' && m.data !== undefined)
        latencies.push(performance.now() - sentAt.get(m.data.n)!)
    })
    let slowClosedAt: number | undefined
    let total = 0
    const started = performance.now()
    const peak = { heapUsed: 0, rss: 0 }
    // Publish until the slow member is gone, then 100 more: the room must not notice it.
    for (let n = 0; slowClosedAt === undefined || n < slowClosedAt + 100; n++) {
      if (n >= 2000) throw new Error('the slow consumer was never closed')
      sentAt.set(n, performance.now())
      publisher.send({ type: 'publish', room: 'big', event: 'bulk', data: { n, payload } })
      total++
      // Keep at most 4 messages ahead of the witness: the others read as fast as this process lets them.
      if (latencies.length < n - 4) {
        await vi.waitFor(() => expect(latencies.length).toBeGreaterThanOrEqual(n - 4), {
          timeout: 10_000,
          interval: 2,
        })
      }
      if (n % 50 === 49) {
        const memory = await server.memory()
        peak.heapUsed = Math.max(peak.heapUsed, memory.heapUsed)
        peak.rss = Math.max(peak.rss, memory.rss)
      }
      if (slowClosedAt === undefined && n % 5 === 0 && (await slowConsumers()) > 0) {
        slowClosedAt = n
        // Reading again within the close timeout, it finds the close frame behind what was buffered.
        slow.socket.resume()
      }
    }
    await vi.waitFor(() => expect(latencies).toHaveLength(total), { timeout: 10_000 })
    const elapsedMs = performance.now() - started
    const closed = await slow.closed
    expect(closed.code).toBe(4008)
    expect(await slowConsumers()).toBe(1)

    // Every other member got every frame: each read at least the bytes of all messages.
    const frameBytes = Buffer.byteLength(JSON.stringify({ n: 0, payload })) + 60
    await vi.waitFor(
      () => {
        const short = members.filter((m, i) => m.bytesReceived - bytesBefore[i]! < total * frameBytes)
        expect(short).toHaveLength(0)
      },
      { timeout: 20_000 },
    )
    expect(members.every((m) => !m.socket.destroyed)).toBe(true)
    expect((await server.room('big')).memberCount).toBe(MEMBERS - 1)
    const after = await server.memory()
    const sorted = [...latencies].sort((a, b) => a - b)
    const p99 = sorted[Math.floor(sorted.length * 0.99)]!
    report('slow consumer: 1,000-member room', {
      messages: total,
      messageBytes: frameBytes,
      slowClosedAfterMessages: slowClosedAt,
      slowClosedAfterMiB: mib((slowClosedAt ?? 0) * frameBytes),
      othersDeliveredMiBEach: mib(total * frameBytes),
      witnessP50Ms: Math.round(sorted[Math.floor(sorted.length / 2)]!),
      witnessP99Ms: Math.round(p99),
      witnessMaxMs: Math.round(sorted.at(-1)!),
      seconds: Math.round(elapsedMs / 100) / 10,
      peakHeapMiB: mib(peak.heapUsed - baseline.heapUsed),
      peakRssMiB: mib(peak.rss - baseline.rss),
      afterHeapMiB: mib(after.heapUsed - baseline.heapUsed),
    })
    // Generous bounds: delivery went on, and the server never held much more than the slow member's cap.
    expect(p99).toBeLessThan(2000)
    expect(peak.heapUsed - baseline.heapUsed).toBeLessThan(64 * MiB)
    expect(after.heapUsed - baseline.heapUsed).toBeLessThan(8 * MiB)
    for (const member of members) member.destroy()
    slow.destroy()
    await witness.close()
    await publisher.close()
  }, 120_000)
})
