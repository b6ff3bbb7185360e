import { Histogram } from '../../harness/histogram'
import { isRoomwire } from '../../servers/bench-server'
import { closeAll, connectMany, type LoadConnection, PAYLOAD_TEXT } from '../load-connection'
import { delay, type ScenarioContext, until, withCpu } from '../scenario-context'

/** Fan-out parameters. */
export interface FanoutParams {
  members: number
  /** Length of the saturating throughput phase. */
  durationMs: number
  /** Deliveries the publisher keeps in flight in the throughput phase. */
  windowDeliveries: number
  /** Offered load of the latency phase, in deliveries per second (the same for every implementation). */
  latencyDeliveriesPerSec: number
  latencyMs: number
}

const ROOM = 'fanout'
/** Members joining at once while the room fills. */
const FILL_BATCH = 250

/** Wait until every member counts every member (roomwire only; the peers send no membership). */
async function membershipDrained(ctx: ScenarioContext, members: readonly LoadConnection[]): Promise<void> {
  if (!isRoomwire(ctx.impl)) return
  const n = members.length
  await until(
    () => members.every((m) => m.memberCount === n),
    120_000,
    'membership traffic while filling the room',
  )
}

/**
 * One publisher, one room of `members`. Phase 1 saturates: the publisher keeps a fixed number of
 * deliveries in flight and we count deliveries per second. Phase 2 offers the same fixed rate to every
 * implementation and records publish-to-receive latency against the intended send time, so a server
 * that falls behind shows it (no coordinated omission).
 */
export async function runFanout(ctx: ScenarioContext, p: FanoutParams) {
  // Fill the room in batches, each time waiting until the membership traffic it caused has arrived. roomwire
  // tells every member of each join (member_joined, PROTOCOL.md), so a room of N costs N(N-1)/2 frames to
  // fill; joining everyone at once would bury the members' sockets under them and measure that storm, not
  // the fan-out. Its cost is reported on its own (fillMs).
  const fillStart = performance.now()
  const receivers: LoadConnection[] = []
  while (receivers.length < p.members) {
    const batch = Math.min(FILL_BATCH, p.members - receivers.length)
    receivers.push(...(await connectMany(ctx.connect, ctx.port, batch, () => ROOM)))
    await membershipDrained(ctx, receivers)
  }
  const [publisher] = await connectMany(ctx.connect, ctx.port, 1, () => ROOM)
  if (!publisher) throw new Error('no publisher')
  await membershipDrained(ctx, [...receivers, publisher])
  const fillMs = performance.now() - fillStart
  let delivered = 0
  let published = 0
  let measuring = false
  const loaded = new Histogram()
  const fixed = new Histogram()
  let current = loaded
  const record = (sentAt: number): void => {
    delivered++
    if (measuring) current.record((performance.now() - sentAt) * 1000)
    if (pumping) pump()
  }
  for (const r of receivers) r.onMessage = record
  let pumping = false
  const window = Math.max(p.windowDeliveries, p.members)
  function pump(): void {
    while (published * p.members - delivered + p.members <= window) {
      publisher!.publish(ROOM, { t: performance.now(), i: published, text: PAYLOAD_TEXT })
      published++
    }
  }

  // Phase 1: saturate, after a short warm-up.
  pumping = true
  pump()
  await delay(Math.min(500, p.durationMs / 2))
  measuring = true
  const start = delivered
  const t0 = performance.now()
  const cpu = await withCpu(ctx, () => delay(p.durationMs))
  const elapsed = performance.now() - t0
  const count = delivered - start
  measuring = false
  pumping = false
  await until(() => delivered >= published * p.members, 30_000, 'fan-out drain')
  // Phase 1 left each side garbage in proportion to what it moved, so the faster server's pair would pay
  // more collection during phase 2: collect both (the children run with --expose-gc), then start clean.
  await ctx.control('memory')
  globalThis.gc?.()
  await delay(100)

  // Phase 2: a fixed offered rate, the same for all.
  current = fixed
  measuring = true
  const publishesPerSec = p.latencyDeliveriesPerSec / p.members
  const total = Math.max(3, Math.round((publishesPerSec * p.latencyMs) / 1000))
  const startAt = performance.now()
  const startDelivered = delivered
  let sent = 0
  while (sent < total) {
    const due = startAt + (sent * 1000) / publishesPerSec
    const now = performance.now()
    if (now < due) {
      await delay(Math.max(0, Math.min(5, due - now - 1)))
      continue
    }
    publisher.publish(ROOM, { t: due, i: sent, text: PAYLOAD_TEXT })
    sent++
  }
  await until(() => delivered - startDelivered >= total * p.members, 30_000, 'fan-out latency drain')
  measuring = false
  closeAll([...receivers, publisher])
  return {
    deliveredPerSec: (count * 1000) / elapsed,
    p50Us: fixed.percentile(0.5),
    p99Us: fixed.percentile(0.99),
    loadedP50Us: loaded.percentile(0.5),
    loadedP99Us: loaded.percentile(0.99),
    serverCpu: cpu.serverCpu,
    loadCpu: cpu.loadCpu,
    // Server CPU time per delivered message: steadier than throughput when the two cores are shared.
    serverUsPerDelivery: (cpu.serverCpu * 1e6 * elapsed) / 1000 / count,
    fillMs,
    samples: fixed.count,
  }
}
