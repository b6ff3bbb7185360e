import type { Redis } from 'ioredis'
import type { KeyLayout } from './keys'
import { bindScript, defineScript, TOUCH_ROOM } from './lua'
import type { RoomLimits } from './script-shared'

/**
 * Rooms without members keep their seq, epoch and history for the idle timeout, so their members can come
 * back and resume. Each one is bounded (`historySize`, `historyMaxBytes`), but their number was not: a
 * client joining fresh rooms, filling each and leaving kept Redis growing for the whole idle timeout
 * (issue 12: 172 MiB in 30 s). So the idle rooms are indexed (`idle`: when each became empty, and the
 * bytes of history each holds) and kept within `maxIdleRooms` and `maxIdleHistoryBytes`: past either, the
 * rooms idle longest are freed early, exactly as if their idle timeout had passed (a member coming back
 * gets a new epoch). Every script that can leave a room empty says when the index is past its bounds;
 * the node then sweeps, and its maintenance tick sweeps too.
 */

const EVICT = defineScript({
  name: 'roomwireEvictIdle',
  keys: ['state', 'hist', 'ids', 'members', 'owners', 'rooms', 'idle', 'idle_bytes', 'idle_total'],
  args: ['room', 'idle_ms', 'max_idle_rooms', 'max_idle_bytes'],
  lua: `${TOUCH_ROOM}
-- Entries whose room expired by its TTL (set when it became empty, the entry's score) go first.
local expired = redis.call('ZRANGEBYSCORE', K.idle, '-inf', now_ms() - tonumber(A.idle_ms), 'LIMIT', 0, 100)
for _, room in ipairs(expired) do forget_idle(room) end
if idle_over() == 0 then return { 0, 0 } end
local evicted = 0
if redis.call('ZSCORE', K.idle, A.room) and redis.call('HLEN', K.members) == 0 then
  for _, name in ipairs(ROOM_KEYS) do redis.call('DEL', K[name]) end
  forget_idle(A.room)
  evicted = 1
end
return { evicted, idle_over() }
`,
})

/** Rooms one sweep frees at most: the rest waits for the next one (a sweep never runs long). */
const MAX_EVICTIONS_PER_SWEEP = 200

/** The idle sweep bound to one connection. */
export function idleSweeper(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
  const evict = bindScript(redis, EVICT)
  /**
   * Free the rooms idle longest until the index is within its bounds (or the sweep did its share): how many
   * were freed, and whether the index is still past a bound.
   */
  return async function sweepIdleRooms(): Promise<{ freed: number; over: boolean }> {
    let freed = 0
    for (let round = 0; round < MAX_EVICTIONS_PER_SWEEP; round++) {
      const [oldest] = await redis.zrange(keys.idle.idle, '0', '0')
      if (oldest === undefined) return { freed, over: false }
      const [evicted, over] = (await evict(
        { ...keys.room(oldest), rooms: keys.rooms, ...keys.idle },
        {
          room: oldest,
          idle_ms: limits.idleTimeoutMs,
          max_idle_rooms: limits.maxIdleRooms,
          max_idle_bytes: limits.maxIdleHistoryBytes,
        },
      )) as [number, number]
      freed += evicted
      if (over !== 1) return { freed, over: false }
    }
    return { freed, over: true }
  }
}
