import { isRoomwire } from '../../servers/bench-server'
import { closeAll, type LoadConnection } from '../load-connection'
import { type CpuSample, delay, type ScenarioContext, until } from '../scenario-context'

/** Big-room parameters (issue 20). */
export interface BigRoomParams {
  members: number
  /** Connections opened per second, each joining as soon as it is welcomed. */
  joinsPerSec: number
  /** How long every member may take to know the final count, after the last join. */
  settleTimeoutMs: number
}

/**
 * Fill one room to `members`, opening connections at a fixed rate, each joining on its welcome. Filled:
 * every join confirmed and, for roomwire, every member counting `members` in the room (its `joined` list
 * and member pages plus the membership frames since; the peers send no membership and count nothing).
 * Reports the fill time and the server's CPU time over it.
 */
export async function runBigRoom(ctx: ScenarioContext, p: BigRoomParams) {
  const conns: LoadConnection[] = []
  const s0 = await ctx.control<CpuSample>('cpu')
  const t0 = performance.now()
  const joins: Promise<void>[] = []
  const failures = new Map<string, number>()
  let opened = 0
  while (opened < p.members) {
    const due = Math.min(p.members, Math.floor(((performance.now() - t0) * p.joinsPerSec) / 1000) + 1)
    for (; opened < due; opened++) {
      joins.push(
        ctx
          .connect(ctx.port)
          .then(async (conn) => {
            conns.push(conn)
            await conn.join('big')
          })
          .catch((error: unknown) => {
            const why = error instanceof Error ? error.message : String(error)
            failures.set(why, (failures.get(why) ?? 0) + 1)
          }),
      )
    }
    await delay(2)
  }
  await Promise.all(joins)
  if (failures.size > 0) {
    const codes = closeCodes(conns)
    closeAll(conns)
    throw new Error(
      `joins failed: ${[...failures].map(([why, n]) => `${n}x ${why}`).join('; ')}; closed: ${codes}`,
    )
  }
  const joinedMs = performance.now() - t0
  const counts = isRoomwire(ctx.impl)
  let settled = true
  if (counts) {
    await until(
      () => conns.every((c) => c.memberCount === p.members),
      p.settleTimeoutMs,
      'member counts',
    ).catch(() => {
      settled = false
    })
  }
  const fillMs = performance.now() - t0
  const s1 = await ctx.control<CpuSample>('cpu')
  const wrongCounts = counts ? conns.filter((c) => c.memberCount !== p.members).length : 0
  const membershipFrames = conns.reduce((sum, c) => sum + c.membershipFrames, 0)
  const closed = conns.filter((c) => c.closeCode !== undefined).length
  closeAll(conns)
  if (!settled)
    throw new Error(
      `${wrongCounts} of ${p.members} members had a wrong count ${p.settleTimeoutMs} ms after the last join`,
    )
  const cpuMs = (s1.user - s0.user + s1.system - s0.system) / 1000
  return {
    fillMs,
    joinedMs,
    serverCpuMs: cpuMs,
    serverUsPerMember: (cpuMs * 1000) / p.members,
    wrongCounts,
    membershipFrames,
    closed,
  }
}

/** Close codes of the connections that closed, counted: "4008 x12, 1006 x3". */
function closeCodes(conns: readonly LoadConnection[]): string {
  const byCode = new Map<number, number>()
  for (const c of conns)
    if (c.closeCode !== undefined) byCode.set(c.closeCode, (byCode.get(c.closeCode) ?? 0) + 1)
  return byCode.size === 0 ? 'none' : [...byCode].map(([code, n]) => `${code} x${n}`).join(', ')
}
