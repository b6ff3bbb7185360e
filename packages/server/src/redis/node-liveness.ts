import type { Redis } from 'ioredis'
import type { KeyLayout } from './keys'

/** Runs one of the adapter's scripts: keys, then arguments. */
export type ScriptRunner = (keys: string[], args: (string | number)[]) => Promise<unknown>

/** What {@link reapDeadNodes} needs. */
export interface ReapDeps {
  redis: Redis
  keys: KeyLayout
  nodeId: string
  reap: ScriptRunner
  forget: ScriptRunner
  idleTimeoutMs: number
}

/**
 * Find nodes whose heartbeat key expired (Redis's clock decides, never a node's) and remove their members
 * from every room they were in, each announced once with `member_left` by the reap script. Returns how
 * many members were removed.
 */
export async function reapDeadNodes(deps: ReapDeps): Promise<number> {
  const { redis, keys } = deps
  const nodes = (await redis.smembers(keys.nodes)).filter((id) => id !== deps.nodeId)
  if (nodes.length === 0) return 0
  const alive = await Promise.all(nodes.map((id) => redis.exists(keys.node(id))))
  let removed = 0
  for (const [i, dead] of nodes.entries()) {
    if (alive[i] === 1) continue
    for (const room of await redis.smembers(keys.nodeRooms(dead))) {
      const ids = (await deps.reap(
        [...keys.room(room), keys.rooms, keys.node(dead)],
        [room, keys.roomChannel(room), dead, JSON.stringify(room), deps.idleTimeoutMs],
      )) as string[]
      removed += ids.length
    }
    await deps.forget(
      [keys.node(dead), keys.nodeRooms(dead), keys.nodeConns(dead), keys.conns, keys.nodes],
      [dead],
    )
  }
  return removed
}

/** A repeating task that never overlaps itself and never keeps the process alive; stop awaits a run. */
export function every(intervalMs: number, task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    running ??= task().finally(() => {
      running = undefined
    })
  }, intervalMs)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
