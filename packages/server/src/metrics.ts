import { Counter, Gauge, Registry } from 'prom-client'

/** The server's Prometheus metrics, in a registry of its own so several servers can share a process. */
export interface ServerMetrics {
  readonly registry: Registry
  readonly messagesIn: Counter<'type'>
  readonly messagesOut: Counter
  readonly bytesIn: Counter
  readonly bytesOut: Counter
  readonly errors: Counter<'code'>
  readonly closes: Counter<'code'>
  readonly slowConsumers: Counter
  readonly authFailures: Counter
}

/** Create the metrics; `connections`, `rooms` and `store` are read at scrape time. */
export function createMetrics(read: {
  connections: () => number
  rooms: () => number
  /** The adapter's shared store: 1 up, 0 down; absent for adapters without one (no gauge then). */
  store?: (() => boolean) | undefined
}): ServerMetrics {
  const registry = new Registry()
  const registers = [registry]
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
  if (store !== undefined) {
    new Gauge({
      name: 'roomwire_cluster_store_up',
      help: 'Whether the cluster store (Redis) is reachable from this node: 1 up, 0 degraded',
      registers,
      collect() {
        this.set(store() ? 1 : 0)
      },
    })
  }
  return {
    registry,
    messagesIn: new Counter({
      name: 'roomwire_messages_in_total',
      help: 'Client messages received, by type (invalid: not decodable)',
      labelNames: ['type'],
      registers,
    }),
    messagesOut: new Counter({
      name: 'roomwire_messages_out_total',
      help: 'Frames sent to clients',
      registers,
    }),
    bytesIn: new Counter({
      name: 'roomwire_bytes_in_total',
      help: 'Bytes received in client frames',
      registers,
    }),
    bytesOut: new Counter({ name: 'roomwire_bytes_out_total', help: 'Bytes sent in frames', registers }),
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
  }
}
