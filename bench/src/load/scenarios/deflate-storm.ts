import { isRoomwire } from '../../servers/bench-server'
import { closeAll, connectMany, type LoadConnection } from '../load-connection'
import { type CpuSample, type ScenarioContext, until } from '../scenario-context'
import { connectWireWith } from '../wire-connection'

/** Compression-storm parameters (issue 20). */
export interface DeflateStormParams {
  /** Members of the one room, every one of them publishing. */
  clients: number
  /** How many of them offer permessage-deflate (the rest do not). */
  deflateClients: number
  /** Publishes per client, all sent at once. */
  publishesEach: number
  /** Size of each publish's text, in bytes (the frame is about 100 bytes more). */
  bytes: number
  timeoutMs: number
}

/** Text that compresses like chat does (words, not one repeated string), the same for every run. */
export function chatText(bytes: number): string {
  const words =
    'the a room message hello world typing presence chat reply thanks see you soon ok why when'.split(' ')
  let text = ''
  let x = 12345
  while (text.length < bytes) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    text += `${words[x % words.length]} `
  }
  return text.slice(0, bytes)
}

interface PhaseResult {
  delivered: number
  expected: number
  closed1006: number
  closed4008: number
  closedOther: number
  usPerDelivery: number
  ms: number
}

/**
 * One storm: `clients` members of a fresh room, `deflated` of them offering compression; each publishes
 * `publishesEach` messages at once; the run ends when every member got every other member's messages or
 * was closed. Server CPU over the storm, per delivery.
 */
async function storm(
  ctx: ScenarioContext,
  p: DeflateStormParams,
  room: string,
  deflated: number,
): Promise<PhaseResult> {
  const withDeflate = connectWireWith({ deflate: true })
  const conns = [
    ...(await connectMany(withDeflate, ctx.port, deflated, () => room)),
    ...(await connectMany(ctx.connect, ctx.port, p.clients - deflated, () => room)),
  ]
  // roomwire tells every member of every join: let that settle so it is not part of the storm.
  if (isRoomwire(ctx.impl)) {
    await until(() => conns.every((c) => c.memberCount >= p.clients), 30_000, 'membership before the storm')
  }
  const received = new Array<number>(conns.length).fill(0)
  conns.forEach((c, i) => {
    c.onMessage = () => {
      received[i]!++
    }
  })
  const each = (p.clients - 1) * p.publishesEach
  const settled = (c: LoadConnection, i: number) => received[i]! >= each || c.closeCode !== undefined
  const text = chatText(p.bytes)
  const s0 = await ctx.control<CpuSample>('cpu')
  const t0 = performance.now()
  for (let n = 0; n < p.publishesEach; n++) {
    for (const c of conns) c.publish(room, { t: performance.now(), i: n, text })
  }
  await until(() => conns.every(settled), p.timeoutMs, 'compression storm').catch(() => {})
  const ms = performance.now() - t0
  const s1 = await ctx.control<CpuSample>('cpu')
  const delivered = received.reduce((a, b) => a + b, 0)
  const codes = conns.map((c) => c.closeCode)
  closeAll(conns)
  return {
    delivered,
    expected: each * conns.length,
    closed1006: codes.filter((c) => c === 1006).length,
    closed4008: codes.filter((c) => c === 4008).length,
    closedOther: codes.filter((c) => c !== undefined && c !== 1006 && c !== 4008).length,
    usPerDelivery: (s1.user - s0.user + s1.system - s0.system) / Math.max(1, delivered),
    ms,
  }
}

/**
 * The compression storm of issue 20 (once unmeasured, to warm the process up, then measured), then the
 * same storm with no client offering compression (the server still has it on), in one server process: deliveries and closes with compression, and the server CPU per
 * delivery with it over without.
 */
export async function runDeflateStorm(ctx: ScenarioContext, p: DeflateStormParams) {
  // Not counted: the first storm in a fresh process also pays for compiling the hot paths and growing the
  // heap (0.2 to 0.3 µs a delivery in issue 20's runs), which the storm measured second did not; after
  // one storm of the same mix both measured storms run in a warm process.
  await storm(ctx, p, 'storm-warm-up', p.deflateClients)
  const mixed = await storm(ctx, p, 'storm-deflate', p.deflateClients)
  const plain = await storm(ctx, p, 'storm-plain', 0)
  return {
    lost: mixed.expected - mixed.delivered,
    delivered: mixed.delivered,
    expected: mixed.expected,
    closed1006: mixed.closed1006,
    closed4008: mixed.closed4008,
    closedOther: mixed.closedOther,
    stormMs: mixed.ms,
    usPerDelivery: mixed.usPerDelivery,
    plainLost: plain.expected - plain.delivered,
    plainUsPerDelivery: plain.usPerDelivery,
    cpuOnOverOff: mixed.usPerDelivery / plain.usPerDelivery,
  }
}
