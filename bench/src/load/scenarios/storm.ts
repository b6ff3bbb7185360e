import { readFileSync } from 'node:fs'
import type { LoadConnection } from '../load-connection'
import { type CpuSample, delay, type ScenarioContext } from '../scenario-context'
import type { MemorySample } from './idle-memory'

/** Connection-storm parameters. */
export interface StormParams {
  connections: number
  roomSize: number
  timeoutMs: number
  /** Clients of an unmeasured storm first, in the same process (0: none). */
  warmUp?: number
}

/**
 * The kernel's count of SYNs dropped because a listen queue was full (TcpExt ListenDrops in
 * /proc/net/netstat), machine-wide: the bench is alone on its loopback, so the delta over a storm is the
 * server's. NaN where the file is missing (not Linux).
 */
function listenDrops(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n')
    const at = lines.findIndex((l) => l.startsWith('TcpExt:'))
    const names = lines[at]!.split(' ')
    const values = lines[at + 1]!.split(' ')
    return Number(values[names.indexOf('ListenDrops')])
  } catch {
    return Number.NaN
  }
}

/**
 * `connections` clients connect and join at the same instant (no pacing at all); the time until the
 * last one has its join confirmed. Rooms of `roomSize` keep presence traffic out of the figure.
 *
 * The last join is a step function of the kernel's SYN retransmission (1 s, then 3 s, 7 s after the
 * first try) once the accept queue overflows, so it swings by seconds between runs of one build; the
 * server's CPU per join and the SYNs dropped say what the server did, the last join what a user waits.
 *
 * A smaller storm (`warmUp` clients) runs first, unmeasured, and is gone before the measured one: a fresh
 * process compiles its hot paths (on V8's background threads, which `process.cpuUsage` counts) during
 * the first storm it serves, and that one-time cost grows with the server's code, not with its joins.
 */
export async function runStorm(ctx: ScenarioContext, p: StormParams) {
  if ((p.warmUp ?? 0) > 0) {
    await storm(ctx, { ...p, connections: p.warmUp! }, 'storm-warm')
    for (let i = 0; i < 200; i++) {
      if ((await ctx.control<MemorySample>('memory')).connections === 0) break
      await delay(25)
    }
  }
  return storm(ctx, p, 'storm')
}

async function storm(ctx: ScenarioContext, p: StormParams, prefix: string) {
  const rooms = Math.ceil(p.connections / p.roomSize)
  const drops0 = listenDrops()
  const s0 = await ctx.control<CpuSample>('cpu')
  const t0 = performance.now()
  const conns: LoadConnection[] = []
  let failed = 0
  const joins = Array.from({ length: p.connections }, async (_, i) => {
    try {
      const conn = await ctx.connect(ctx.port)
      conns.push(conn)
      await conn.join(`${prefix}-${i % rooms}`)
      return performance.now() - t0
    } catch {
      failed++
      return Number.NaN
    }
  })
  let timer: NodeJS.Timeout | undefined
  const times = await Promise.race([
    Promise.all(joins),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`storm: not all joined in ${p.timeoutMs} ms`)), p.timeoutMs)
    }),
  ]).finally(() => clearTimeout(timer))
  const s1 = await ctx.control<CpuSample>('cpu')
  const synsDropped = listenDrops() - drops0
  const ok = times.filter((t) => Number.isFinite(t)).sort((a, b) => a - b)
  for (const c of conns) c.close()
  return {
    allJoinedMs: ok.length > 0 ? ok[ok.length - 1]! : Number.NaN,
    medianJoinMs: ok.length > 0 ? ok[ok.length >> 1]! : Number.NaN,
    serverUsPerJoin: ok.length > 0 ? (s1.user - s0.user + s1.system - s0.system) / ok.length : Number.NaN,
    // The split says whose the time is: user time is the server's code (and ws's, and Node's), system
    // time mostly the kernel's TCP work for the handshake and the writes (the server decides only how many).
    serverUserUsPerJoin: ok.length > 0 ? (s1.user - s0.user) / ok.length : Number.NaN,
    serverSystemUsPerJoin: ok.length > 0 ? (s1.system - s0.system) / ok.length : Number.NaN,
    // The main thread alone: the rest of the user time is V8's compiler and GC threads.
    serverMainUserUsPerJoin: ok.length > 0 ? (s1.mainUser! - s0.mainUser!) / ok.length : Number.NaN,
    synsDropped,
    failed,
  }
}
