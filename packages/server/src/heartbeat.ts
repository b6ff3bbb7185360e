import type { Clock } from './clock'
import type { Connection } from './connection'

/** What the heartbeat needs from its server. */
export interface HeartbeatOptions {
  pingIntervalMs: number
  pongTimeoutMs: number
  /** The server's clock: the sweep runs on its interval and reads its time. */
  clock: Clock
  connections: () => Iterable<Connection>
  /** A connection was silent for longer than ping interval + pong timeout. */
  onTimeout: (connection: Connection) => void
}

/** Stop function of {@link startHeartbeat}. */
export type StopHeartbeat = () => void

/**
 * One timer for every connection (not one per socket): it pings each connection once per interval and
 * terminates any that sent nothing, not even a pong, for ping interval + pong timeout. What arrived is
 * read off each socket's byte count at every sweep (Connection.noteTraffic), so it counts as seen up to
 * a sweep late: a live peer gets that much longer, never less.
 */
export function startHeartbeat(options: HeartbeatOptions): StopHeartbeat {
  const { pingIntervalMs, pongTimeoutMs, clock } = options
  const deadline = pingIntervalMs + pongTimeoutMs
  // Sweep often enough that a dead peer goes within a fraction of the pong timeout of its deadline.
  const sweepMs = Math.max(5, Math.min(pingIntervalMs, pongTimeoutMs) / 2)
  const timer = clock.setInterval(() => {
    const t = clock.now()
    for (const connection of options.connections()) {
      if (connection.closing) continue
      connection.noteTraffic(t)
      if (t - connection.lastSeenAt >= deadline) {
        options.onTimeout(connection)
      } else if (t - connection.lastPingAt >= pingIntervalMs) {
        connection.lastPingAt = t
        try {
          connection.ws.ping()
        } catch {
          // The socket is closing; its 'close' event cleans up.
        }
      }
    }
  }, sweepMs)
  return () => clock.clearInterval(timer)
}
