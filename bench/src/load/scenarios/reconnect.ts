import { io, type Socket } from 'socket.io-client'
import { delay, type ScenarioContext, until } from '../scenario-context'

/** Reconnect-storm parameters. */
export interface ReconnectParams {
  clients: number
  roomSize: number
  timeoutMs: number
}

/** How reconnects after a restart spread over time. */
export interface ReconnectResult {
  allBackMs: number
  p50Ms: number
  p99Ms: number
  peakPerSec: number
  peakPer100Ms: number
  notBack: number
}

interface Tracked {
  /** Milliseconds after the kill at which this client was connected again, or NaN. */
  backAt: number
}

/**
 * `clients` real SDK clients (roomwire: `@roomwire/client` with its default backoff; Socket.IO:
 * socket.io-client with its default reconnection) connected and joined; then the server process is
 * killed and a new one listens on the same port at once. Records when each client is back.
 */
export async function runReconnect(ctx: ScenarioContext, p: ReconnectParams): Promise<ReconnectResult> {
  if (ctx.impl === 'ws') throw new Error('raw ws has no reconnecting client')
  const rooms = Math.ceil(p.clients / p.roomSize)
  const tracked: Tracked[] = []
  let killedAt = Number.POSITIVE_INFINITY
  const closers: Array<() => void> = []
  const batch = 250
  // Imported only for roomwire, so the peers' load generator never loads the SDK.
  const { createClient } =
    ctx.impl === 'roomwire' ? await import('@roomwire/client') : { createClient: undefined }
  for (let start = 0; start < p.clients; start += batch) {
    const ready: Promise<unknown>[] = []
    for (let i = start; i < Math.min(p.clients, start + batch); i++) {
      const t: Tracked = { backAt: Number.NaN }
      tracked.push(t)
      const room = `rc-${i % rooms}`
      if (createClient) {
        const client = createClient({ url: `ws://127.0.0.1:${ctx.port}/ws` })
        let wasDown = false
        client.on('status', () => {
          const status = client.status
          if (performance.now() < killedAt) return
          if (status !== 'open') wasDown = true
          else if (wasDown && Number.isNaN(t.backAt)) t.backAt = performance.now() - killedAt
        })
        ready.push(client.join(room).ready)
        closers.push(() => client.close())
      } else {
        const socket: Socket = io(`http://127.0.0.1:${ctx.port}`, {
          transports: ['websocket'],
          forceNew: true,
        })
        socket.on('connect', () => {
          if (performance.now() >= killedAt && Number.isNaN(t.backAt)) t.backAt = performance.now() - killedAt
          void socket.emitWithAck('join', room)
        })
        ready.push(new Promise((resolve) => socket.once('connect', () => resolve(undefined))))
        closers.push(() => socket.disconnect())
      }
    }
    await Promise.all(ready)
  }
  await delay(200)
  killedAt = performance.now()
  await ctx.control('restart')
  await until(() => tracked.every((t) => !Number.isNaN(t.backAt)), p.timeoutMs, 'reconnect').catch(() => {})
  for (const close of closers) close()
  const times = tracked
    .map((t) => t.backAt)
    .filter((t) => !Number.isNaN(t))
    .sort((a, b) => a - b)
  return {
    allBackMs: times.length === p.clients ? times[times.length - 1]! : Number.NaN,
    p50Ms: times[Math.floor(times.length * 0.5)] ?? Number.NaN,
    p99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? Number.NaN,
    peakPerSec: peakInWindow(times, 1000),
    peakPer100Ms: peakInWindow(times, 100),
    notBack: p.clients - times.length,
  }
}

/** The most events in any window of `windowMs` (two pointers over sorted times). */
export function peakInWindow(sorted: readonly number[], windowMs: number): number {
  let peak = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++
    peak = Math.max(peak, hi - lo + 1)
  }
  return peak
}
