import type { Redis } from 'ioredis'
import type { AdapterStats } from '../adapter'
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
  reply: (r) => {
    const [evicted, over] = [r.int(), r.flag()]
    return { evicted, over }
  },
})

const COUNT = defineScript({
  name: 'roomwireCountIdle',
  keys: ['idle', 'idle_bytes', 'idle_total'],
  args: ['idle_ms', 'max_forgotten'],
  // A room whose idle TTL passed is gone with its keys, but its entry stays in the index until a script
  // forgets it: forget those first, so the count holds only rooms Redis still keeps.
  lua: `${TOUCH_ROOM}
local expired = redis.call('ZRANGEBYSCORE', K.idle, '-inf', now_ms() - tonumber(A.idle_ms), 'LIMIT', 0, tonumber(A.max_forgotten))
for _, room in ipairs(expired) do forget_idle(room) end
return { redis.call('ZCARD', K.idle), tonumber(redis.call('GET', K.idle_total) or '0') }
`,
  reply: (r) => {
    const [rooms, bytes] = [r.int(), r.int()]
    return { rooms, bytes }
  },
})

/** Expired index entries one count forgets at most (more are left for the next count, or a sweep). */
const MAX_FORGOTTEN_PER_COUNT = 1000

/** Rooms one sweep frees at most: the rest waits for the next one (a sweep never runs long). */
const MAX_EVICTIONS_PER_SWEEP = 200

/** The idle sweep bound to one connection; what it frees is counted in `stats`. */
export function idleSweeper(redis: Redis, keys: KeyLayout, limits: RoomLimits, stats: IdleStats) {
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
      const { evicted, over } = await evict(
        { ...keys.room(oldest), rooms: keys.rooms, ...keys.idle },
        {
          room: oldest,
          idle_ms: limits.idleTimeoutMs,
          max_idle_rooms: limits.maxIdleRooms,
          max_idle_bytes: limits.maxIdleHistoryBytes,
        },
      )
      freed += evicted
      stats.evicted(evicted)
      if (!over) return { freed, over: false }
    }
    return { freed, over: true }
  }
}

/**
 * The idle index's numbers for `/health` and the metrics (`RoomAdapter.stats`, which is synchronous):
 * cached, and read again by {@link refresh} on the node's maintenance tick, every `reapIntervalMs` (1.5 s by
 * default) while the link to Redis is up; while it is down they are the last ones read (zero before the
 * first). `idleRooms` and `historyBytes` are the cluster's, the same on every node: the rooms without
 * members Redis keeps and the bytes of their history, the two numbers `maxIdleRooms` and
 * `maxIdleHistoryBytes` bound (history of rooms with members is not counted). `idleRoomsEvicted` counts the
 * rooms this node's sweeps freed early, as they are freed, so the nodes' counters add up to the cluster's.
 * `historyEvicted` stays 0: Redis has no history budget across rooms.
 */
export class IdleStats {
  readonly #read: () => Promise<{ rooms: number; bytes: number }>
  #rooms = 0
  #bytes = 0
  #evicted = 0

  constructor(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
    const count = bindScript(redis, COUNT)
    const args = { idle_ms: limits.idleTimeoutMs, max_forgotten: MAX_FORGOTTEN_PER_COUNT }
    this.#read = () => count(keys.idle, args)
  }

  /** Read the index again (forgetting the entries of rooms that expired). */
  async refresh(): Promise<void> {
    const { rooms, bytes } = await this.#read()
    this.#rooms = rooms
    this.#bytes = bytes
  }

  /** A sweep of this node freed `count` rooms early. */
  evicted(count: number): void {
    this.#evicted += count
  }

  /** The numbers as last read, with this node's evictions so far. */
  get snapshot(): AdapterStats {
    return {
      idleRooms: this.#rooms,
      historyBytes: this.#bytes,
      idleRoomsEvicted: this.#evicted,
      historyEvicted: 0,
    }
  }
}
