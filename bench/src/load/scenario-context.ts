import type { Implementation } from '../servers/bench-server'
import type { Connector } from './load-connection'
import { connectSocketIo } from './socketio-connection'
import { connectWire } from './wire-connection'

/** CPU time a process used, from `process.cpuUsage()`, in microseconds. */
export interface CpuSample {
  user: number
  system: number
  /** The server's main thread alone (the server child's samples on Linux; absent in the load generator's). */
  mainUser?: number
  at: number
}

/** What a scenario running in the load generator may use. */
export interface ScenarioContext {
  impl: Implementation
  port: number
  /** Every server process's port (one, unless the scenario runs a cluster). */
  ports: number[]
  /** The load connection for `impl`: raw JSON over `ws` for ws and roomwire, socket.io-client for Socket.IO. */
  connect: Connector
  /** Ask the harness for something done to the server process (memory, cpu, blast, restart). */
  control<T = unknown>(cmd: string, args?: unknown): Promise<T>
}

/** Pick the load connection for an implementation. */
export function connectorFor(impl: Implementation): Connector {
  return impl === 'socketio' ? connectSocketIo : connectWire
}

/** Resolve after `ms`; the load generator's pacing, never used to wait for an outcome. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** This process's CPU time now. */
export function cpuNow(): CpuSample {
  const u = process.cpuUsage()
  return { user: u.user, system: u.system, at: performance.now() }
}

/** Share of one core used between two samples (1 = a full core). */
export function cpuShare(a: CpuSample, b: CpuSample): number {
  const wallUs = (b.at - a.at) * 1000
  return wallUs > 0 ? (b.user - a.user + b.system - a.system) / wallUs : Number.NaN
}

/** Wait until `done()` holds, checking every few milliseconds, for at most `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs} ms`)
    await delay(5)
  }
}

/** Measure the server's CPU share and this process's over `fn`. */
export async function withCpu<T>(
  ctx: ScenarioContext,
  fn: () => Promise<T>,
): Promise<{ value: T; serverCpu: number; loadCpu: number }> {
  const s0 = await ctx.control<CpuSample>('cpu')
  const l0 = cpuNow()
  const value = await fn()
  const s1 = await ctx.control<CpuSample>('cpu')
  const l1 = cpuNow()
  return { value, serverCpu: cpuShare(s0, s1), loadCpu: cpuShare(l0, l1) }
}
