import { Histogram } from '../../harness/histogram'
import { closeAll, connectMany, PAYLOAD_TEXT } from '../load-connection'
import { delay, type ScenarioContext, until, withCpu } from '../scenario-context'

/** Many-rooms parameters. */
export interface ManyRoomsParams {
  connections: number
  roomSize: number
  /** Publishes per second in each room, by the room's first member. */
  perRoomRate: number
  durationMs: number
}

/**
 * `connections` in rooms of `roomSize`; every room's first member publishes at a fixed rate, spread
 * evenly over time, so the offered load is the same for every implementation. Reports deliveries per
 * second and latency against the intended send time.
 */
export async function runManyRooms(ctx: ScenarioContext, p: ManyRoomsParams) {
  const rooms = Math.ceil(p.connections / p.roomSize)
  const roomOf = (i: number): string => `room-${i % rooms}`
  const conns = await connectMany(ctx.connect, ctx.port, p.connections, roomOf, 500)
  let delivered = 0
  let measuring = false
  const hist = new Histogram()
  for (const c of conns) {
    c.onMessage = (sentAt) => {
      delivered++
      if (measuring) hist.record((performance.now() - sentAt) * 1000)
    }
  }
  // Connection i is in room i % rooms, so connections 0..rooms-1 are one member of each room.
  const publishers = conns.slice(0, rooms)
  const publishesPerSec = rooms * p.perRoomRate
  let sent = 0
  let running = true
  const startAt = performance.now()
  const pacer = (async () => {
    while (running) {
      const dueCount = Math.floor(((performance.now() - startAt) * publishesPerSec) / 1000)
      while (sent < dueCount) {
        const due = startAt + (sent * 1000) / publishesPerSec
        publishers[sent % rooms]!.publish(roomOf(sent % rooms), { t: due, i: sent, text: PAYLOAD_TEXT })
        sent++
      }
      await delay(2)
    }
  })()
  await delay(Math.min(1000, p.durationMs / 2))
  measuring = true
  const start = delivered
  const t0 = performance.now()
  const cpu = await withCpu(ctx, () => delay(p.durationMs))
  const elapsed = performance.now() - t0
  const count = delivered - start
  measuring = false
  running = false
  await pacer
  const expected = sent * (p.roomSize - 1)
  await until(() => delivered >= expected, 30_000, 'many-rooms drain').catch(() => {})
  closeAll(conns)
  return {
    deliveredPerSec: (count * 1000) / elapsed,
    offeredPerSec: publishesPerSec * (p.roomSize - 1),
    p50Us: hist.percentile(0.5),
    p99Us: hist.percentile(0.99),
    lost: Math.max(0, expected - delivered),
    serverCpu: cpu.serverCpu,
    loadCpu: cpu.loadCpu,
  }
}
