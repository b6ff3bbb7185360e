import type { Redis } from 'ioredis'
import type { Clock } from '../clock'
import type { KeyLayout } from './keys'
import { bindScript, defineScript, TOUCH_ROOM } from './lua'
import type { RoomLimits } from './script-shared'

const REAP = defineScript({
  name: 'roomwireReap',
  keys: [
    'state',
    'hist',
    'ids',
    'members',
    'owners',
    'rooms',
    'idle',
    'idle_bytes',
    'idle_total',
    'dead_node',
  ],
  args: ['room', 'channel', 'dead_node_id', 'room_json', 'idle_ms', 'max_idle_rooms', 'max_idle_bytes'],
  // Removes every member a dead node owned in one room, each announced once with member_left: the HDEL
  // and the PUBLISH are one atomic step, so two nodes reaping the same dead node never announce twice.
  lua: `${TOUCH_ROOM}
-- A node that came back before this ran keeps its members (it registers them again itself).
if redis.call('EXISTS', K.dead_node) == 1 then return { 0, {} } end
local owners = redis.call('HGETALL', K.owners)
local removed = {}
for i = 1, #owners, 2 do
  if owners[i + 1] == A.dead_node_id then
    local id = owners[i]
    redis.call('HDEL', K.members, id)
    redis.call('HDEL', K.owners, id)
    redis.call('PUBLISH', A.channel, '\\n{"type":"member_left","room":' .. A.room_json .. ',"id":' .. cjson.encode(id) .. '}')
    removed[#removed + 1] = id
  end
end
if #removed == 0 then return { 0, removed } end
touch_room()
return { idle_over(), removed }
`,
  reply: (r) => {
    const [idleOver, removed] = [r.flag(), r.strings()]
    return { idleOver, removed }
  },
})

const FORGET = defineScript({
  name: 'roomwireForget',
  keys: ['dead_node', 'node_rooms', 'node_conns', 'conns', 'nodes'],
  args: ['dead_node_id'],
  // Once its rooms were reaped: its connections (for direct messages) and its sets.
  lua: `
if redis.call('EXISTS', K.dead_node) == 1 then return 0 end
for _, id in ipairs(redis.call('SMEMBERS', K.node_conns)) do
  if redis.call('HGET', K.conns, id) == A.dead_node_id then redis.call('HDEL', K.conns, id) end
end
redis.call('DEL', K.node_rooms, K.node_conns)
redis.call('SREM', K.nodes, A.dead_node_id)
return 1
`,
  // 0: the node came back meanwhile, and keeps its sets.
  reply: (r) => r.flag(),
})

/** The reaper's scripts bound to one connection. */
export function reaperScripts(redis: Redis) {
  return { reap: bindScript(redis, REAP), forget: bindScript(redis, FORGET) }
}

/** What {@link reapDeadNodes} needs. */
export interface ReapDeps {
  redis: Redis
  keys: KeyLayout
  nodeId: string
  scripts: ReturnType<typeof reaperScripts>
  limits: RoomLimits
}

/**
 * Find nodes whose heartbeat key expired (Redis's clock decides, never a node's) and remove their members
 * from every room they were in, each announced once with `member_left`. Returns how many members were
 * removed, and whether the idle index went past its bounds (then sweep it).
 */
export async function reapDeadNodes(deps: ReapDeps): Promise<{ removed: number; idleOver: boolean }> {
  const { redis, keys, scripts, limits } = deps
  const nodes = (await redis.smembers(keys.nodes)).filter((id) => id !== deps.nodeId)
  let removed = 0
  let idleOver = false
  if (nodes.length === 0) return { removed, idleOver }
  const alive = await Promise.all(nodes.map((id) => redis.exists(keys.node(id))))
  for (const [i, dead] of nodes.entries()) {
    if (alive[i] === 1) continue
    for (const room of await redis.smembers(keys.nodeRooms(dead))) {
      const reaped = await scripts.reap(
        { ...keys.room(room), rooms: keys.rooms, ...keys.idle, dead_node: keys.node(dead) },
        {
          room,
          channel: keys.roomChannel(room),
          dead_node_id: dead,
          room_json: JSON.stringify(room),
          idle_ms: limits.idleTimeoutMs,
          max_idle_rooms: limits.maxIdleRooms,
          max_idle_bytes: limits.maxIdleHistoryBytes,
        },
      )
      removed += reaped.removed.length
      idleOver ||= reaped.idleOver
    }
    await scripts.forget(
      {
        dead_node: keys.node(dead),
        node_rooms: keys.nodeRooms(dead),
        node_conns: keys.nodeConns(dead),
        conns: keys.conns,
        nodes: keys.nodes,
      },
      { dead_node_id: dead },
    )
  }
  return { removed, idleOver }
}

/** A repeating task on `clock` that never overlaps itself; stop awaits a run in flight. */
export function every(clock: Clock, intervalMs: number, task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  const timer = clock.setInterval(() => {
    running ??= task().finally(() => {
      running = undefined
    })
  }, intervalMs)
  return async () => {
    clock.clearInterval(timer)
    await running
  }
}
