import type { KeySpec } from './config-spec'
import { fileState } from './state-file'

/**
 * The keys of where rooms' history lives without Redis: the in-memory adapter's bounds, the state file
 * and PostgreSQL. Spread into CONFIG_KEYS (config-keys.ts) in table order.
 */
export const HISTORY_KEYS = {
  'memory.max_history_bytes': {
    kind: 'posint',
    to: 'memory.maxHistoryBytes',
    doc: 'without redis_url: bytes of history all rooms may hold (least recently used rooms lose messages first)',
  },
  'memory.max_idle_rooms': {
    kind: 'posint',
    to: 'memory.maxIdleRooms',
    doc: 'without redis_url: empty rooms kept for resume (the one empty longest is freed first)',
  },
  state_file: {
    kind: 'path',
    to: 'memory.persist',
    unset: 'none (rooms die with the process)',
    doc: "without redis_url: a file that keeps every room's epoch, seq and history across a graceful restart (read and deleted at start, written at shutdown)",
    map: (file: string) => fileState(file),
  },
  'history.postgres_url': {
    kind: 'url',
    to: 'history.postgresUrl',
    unset: 'none (history is what a room holds in memory)',
    schemes: ['postgres:', 'postgresql:'],
    doc: 'PostgreSQL that keeps every message, so a restart (or, with redis_url, a Redis flush or failover) continues each room and clients page back',
  },
  'history.retention_days': {
    kind: 'number',
    to: 'history.retentionDays',
    default: 30,
    doc: 'with history.postgres_url: days messages are kept (older ones are removed in the background)',
    check: (days: number) => (days > 0 ? undefined : 'a number of days above 0'),
  },
} as const satisfies Record<string, KeySpec>
