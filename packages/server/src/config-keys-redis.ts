import type { KeySpec } from './config-spec'

/**
 * The keys of the Redis adapter, which spans several server processes. Spread into CONFIG_KEYS
 * (config-keys.ts) in table order.
 */
export const REDIS_KEYS = {
  redis_url: {
    kind: 'url',
    to: 'redis.url',
    unset: 'none (the in-memory adapter: one process)',
    schemes: ['redis:', 'rediss:'],
    doc: 'Redis to span several server processes',
  },
  redis_key_prefix: {
    kind: 'string',
    to: 'redis.keyPrefix',
    doc: 'prefix of every Redis key and channel (several clusters can share one Redis)',
  },
  redis_node_ttl_secs: {
    kind: 'secs',
    to: 'redis.nodeTtlMs',
    doc: 'a node silent this long is dead and its members leave (heartbeat every 30% of it)',
  },
  redis_max_idle_rooms: {
    kind: 'posint',
    to: 'redis.maxIdleRooms',
    doc: 'rooms without members whose state Redis keeps, cluster-wide; past it the longest idle are freed',
  },
  redis_max_idle_history_bytes: {
    kind: 'posint',
    to: 'redis.maxIdleHistoryBytes',
    doc: 'bytes of history the rooms without members may hold in Redis; past it the longest idle are freed',
  },
} as const satisfies Record<string, KeySpec>
