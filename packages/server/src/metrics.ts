import { ERROR_CODES } from '@roomwire/protocol'
import { Counter, Gauge, Registry } from 'prom-client'
import type { AdapterStats } from './adapter'

/**
 * Close codes counted under their own label: RFC 6455's registered codes and roomwire's own. A peer picks
 * the code of a close it starts, so any other is counted as `other`: 2,000 connections closing with 2,000
 * codes made 2,000 series (issue 12). Every label value of every metric here comes from a closed set.
 */
const CLOSE_CODE_LABELS = new Set([
  1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 4001, 4003, 4008,
  4400,
])
const ERROR_CODE_LABELS = new Set<string>(ERROR_CODES)

/** The `code` label of `roomwire_closes_total` for a close code. */
export function closeCodeLabel(code: number): string {
  return CLOSE_CODE_LABELS.has(code) ? String(code) : 'other'
}

/** The `code` label of `roomwire_errors_total`: an error code, or `other` for one a hook made up. */
export function errorCodeLabel(code: string): string {
  return ERROR_CODE_LABELS.has(code) ? code : 'other'
}

/** Why an upgrade was refused, as `roomwire_upgrades_refused_total` labels it. */
export type UpgradeRefusal =
  | 'origin'
  | 'closing'
  | 'unauthorized'
  | 'auth_backoff'
  | 'address_cap'
  | 'capacity'
  | 'subprotocol'

/** The server's Prometheus metrics, in a registry of its own so several servers can share a process. */
export interface ServerMetrics {
  readonly registry: Registry
  /**
   * The per-frame counters, as plain numbers: counting every frame through prom-client (label hashing,
   * validation) showed in the echo profile, so they are added up here and handed to the counters
   * (`roomwire_messages_in_total`, `_messages_out_total`, `_bytes_in_total`, `_bytes_out_total`) when
   * they are scraped.
   */
  readonly traffic: Traffic
  readonly errors: Counter<'code'>
  readonly closes: Counter<'code'>
  readonly slowConsumers: Counter
  readonly authFailures: Counter
  /** Bytes written for joins: `joined`, member pages and replayed messages. */
  readonly replayedBytes: Counter
  /** Joins refused with `rate_limited` because the connection's replay budget was spent. */
  readonly replayRefusals: Counter
  /** Frames whose handling threw (a bug), answered `internal`. */
  readonly frameFailures: Counter
  /** Frames refused with `rate_limited`, by the budget they overdrew (`messages` or `bytes`). */
  readonly rateLimited: Counter<'budget'>
  /** Upgrades refused, by {@link UpgradeRefusal}. */
  readonly upgradesRefused: Counter<'reason'>
}

/** Per-frame counts not yet handed to their prom-client counters; see {@link ServerMetrics.traffic}. */
export interface Traffic {
  framesOut: number
  bytesOut: number
  bytesIn: number
  /** Client messages received, by type (`binary`, `invalid` or a message type). */
  readonly messagesIn: Map<string, number>
}

/** Count one client message of `type` (cheap: a Map update). */
export function countIn(traffic: Traffic, type: string): void {
  traffic.messagesIn.set(type, (traffic.messagesIn.get(type) ?? 0) + 1)
}

/** What the metrics read at scrape time. */
export interface MetricsSources {
  connections: () => number
  rooms: () => number
  /** The adapter's shared store: 1 up, 0 down; absent for adapters without one (no gauge then). */
  store?: (() => boolean) | undefined
  /** What the adapter holds in memory; absent for adapters that keep rooms elsewhere (no gauges then). */
  adapterStats?: (() => AdapterStats) | undefined
}

type Registers = Registry[]

/** Gauges of what the node holds now: connections, rooms, and whether the cluster store is up. */
function nodeGauges(registers: Registers, read: MetricsSources): void {
  new Gauge({
    name: 'roomwire_connections',
    help: 'Open WebSocket connections on this node',
    registers,
    collect() {
      this.set(read.connections())
    },
  })
  new Gauge({
    name: 'roomwire_rooms',
    help: 'Rooms with at least one member on this node',
    registers,
    collect() {
      this.set(read.rooms())
    },
  })
  const store = read.store
  if (store === undefined) return
  new Gauge({
    name: 'roomwire_cluster_store_up',
    help: 'Whether the cluster store (Redis) is reachable from this node: 1 up, 0 degraded',
    registers,
    collect() {
      this.set(store() ? 1 : 0)
    },
  })
}

/** The adapter's {@link AdapterStats} as gauges (what it holds) and counters (what it evicted). */
function adapterMetrics(registers: Registers, adapterStats: () => AdapterStats): void {
  const stat = (name: string, help: string, key: keyof AdapterStats, kind: 'gauge' | 'counter') => {
    if (kind === 'gauge') {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(adapterStats()[key])
        },
      })
      return
    }
    // The adapter counts since it started; the counter is handed what it added since the last scrape.
    let seen = 0
    new Counter({
      name,
      help,
      registers,
      collect() {
        const total = adapterStats()[key]
        if (total > seen) this.inc(total - seen)
        seen = total
      },
    })
  }
  stat(
    'roomwire_idle_rooms',
    'Rooms without members kept for resume (memory adapter: by this process; Redis: cluster-wide)',
    'idleRooms',
    'gauge',
  )
  stat(
    'roomwire_history_bytes',
    'Bytes of room history held (memory adapter: by this process; Redis: of its idle rooms, cluster-wide)',
    'historyBytes',
    'gauge',
  )
  stat(
    'roomwire_idle_rooms_evicted_total',
    'Idle rooms freed before their idle timeout because too many were kept',
    'idleRoomsEvicted',
    'counter',
  )
  stat(
    'roomwire_history_evicted_total',
    "Messages dropped from history to keep the process's history budget",
    'historyEvicted',
    'counter',
  )
}

/** The per-frame counters: plain numbers on the hot path ({@link Traffic}), handed over at scrape time. */
function trafficCounters(registers: Registers): Traffic {
  const traffic: Traffic = { framesOut: 0, bytesOut: 0, bytesIn: 0, messagesIn: new Map() }
  new Counter({
    name: 'roomwire_messages_in_total',
    help: 'Client messages received, by type (invalid: not decodable)',
    labelNames: ['type'],
    registers,
    collect() {
      for (const [type, count] of traffic.messagesIn) this.inc({ type }, count)
      traffic.messagesIn.clear()
    },
  })
  const drained = (name: string, help: string, key: 'framesOut' | 'bytesIn' | 'bytesOut') =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.inc(traffic[key])
        traffic[key] = 0
      },
    })
  drained('roomwire_messages_out_total', 'Frames sent to clients', 'framesOut')
  drained('roomwire_bytes_in_total', 'Bytes received in client frames', 'bytesIn')
  drained('roomwire_bytes_out_total', 'Bytes sent in frames', 'bytesOut')
  return traffic
}

/** Create the metrics; `connections`, `rooms` and `store` are read at scrape time. */
export function createMetrics(read: MetricsSources): ServerMetrics {
  const registry = new Registry()
  const registers = [registry]
  nodeGauges(registers, read)
  if (read.adapterStats !== undefined) adapterMetrics(registers, read.adapterStats)
  const traffic = trafficCounters(registers)
  return {
    registry,
    traffic,
    errors: new Counter({
      name: 'roomwire_errors_total',
      help: 'error frames sent, by code',
      labelNames: ['code'],
      registers,
    }),
    closes: new Counter({
      name: 'roomwire_closes_total',
      help: 'Connections closed, by close code',
      labelNames: ['code'],
      registers,
    }),
    slowConsumers: new Counter({
      name: 'roomwire_slow_consumers_total',
      help: 'Connections closed with 4008 because their send buffer overflowed',
      registers,
    }),
    authFailures: new Counter({
      name: 'roomwire_auth_failures_total',
      help: 'Connections refused with 4001',
      registers,
    }),
    replayedBytes: new Counter({
      name: 'roomwire_replayed_bytes_total',
      help: 'Bytes written for joins: joined, member pages and replayed messages',
      registers,
    }),
    replayRefusals: new Counter({
      name: 'roomwire_replay_refusals_total',
      help: "Joins refused with rate_limited because the connection's replay budget was spent",
      registers,
    }),
    frameFailures: new Counter({
      name: 'roomwire_frame_failures_total',
      help: 'Client frames whose handling failed with an exception (a server bug), answered internal',
      registers,
    }),
    rateLimited: new Counter({
      name: 'roomwire_rate_limited_total',
      help: 'Client frames refused with rate_limited, by the budget overdrawn (messages or bytes)',
      labelNames: ['budget'],
      registers,
    }),
    upgradesRefused: new Counter({
      name: 'roomwire_upgrades_refused_total',
      help: 'WebSocket upgrades refused (by HTTP status or a close right after the upgrade), by reason',
      labelNames: ['reason'],
      registers,
    }),
  }
}
