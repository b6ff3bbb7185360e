import type { RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import { type Clock, systemClock } from '../clock'
import { RoomServerError } from '../errors'
import type { StoreLinkOptions } from './store-link'

/** Options of `createRedisAdapter`. */
export interface RedisAdapterOptions {
  /**
   * The Redis to share (`redis://` or `rediss://`, with user, password and db as usual).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /** More ioredis options (TLS, sentinels...). The adapter's own timeouts and retry settings win. */
  redisOptions?: Omit<RedisOptions, 'replyMapping'>
  /**
   * Prefix of every key and channel, so several clusters (or tests) can share one Redis.
   * @default 'roomwire:'
   */
  keyPrefix?: string
  /**
   * Lifetime of this node's heartbeat key: a node silent this long is dead, and its members are removed.
   * @default 5000
   */
  nodeTtlMs?: number
  /**
   * How often the heartbeat key is refreshed (well under `nodeTtlMs`); each heartbeat also checks that the
   * subscriber still hears this node.
   * @default 1500
   */
  heartbeatIntervalMs?: number
  /**
   * How often this node looks for dead nodes to reap.
   * @default 1500
   */
  reapIntervalMs?: number
  /**
   * A Redis command that takes longer fails (a publish is refused rather than left hanging), and a
   * published frame not heard back on the subscriber this long after its ack marks the link stalled.
   * @default 2000
   */
  commandTimeoutMs?: number
  /**
   * How long `attach` (the server's `ready`) waits for Redis before the server starts degraded.
   * @default 5000
   */
  connectTimeoutMs?: number
  /**
   * Longest pause between reconnection attempts.
   * @default 1000
   */
  maxReconnectDelayMs?: number
  /**
   * Rooms without members whose state (seq, epoch, history) Redis keeps for the idle timeout, cluster-wide:
   * past it the rooms idle longest are freed early (issue 12).
   * @default 10_000
   */
  maxIdleRooms?: number
  /**
   * Bytes of history all rooms without members may hold together, cluster-wide: past it the rooms idle
   * longest are freed early (issue 12).
   * @default 67_108_864
   */
  maxIdleHistoryBytes?: number
  /** A pino logger for store outages and recoveries. @default silent */
  logger?: Logger
  /**
   * Timers of the heartbeat, the reaping tick, the link's probes, and the waits of a join for its mark
   * and of a publish's ack for its delivery (liveness in Redis itself runs on Redis's clock, never a
   * node's).
   * @default systemClock
   */
  clock?: Clock
}

/** Defaults of {@link RedisAdapterOptions} (the reference server's `redis_*` keys read theirs from here). */
export const DEFAULT_REDIS_OPTIONS = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'roomwire:',
  nodeTtlMs: 5000,
  heartbeatIntervalMs: 1500,
  reapIntervalMs: 1500,
  commandTimeoutMs: 2000,
  connectTimeoutMs: 5000,
  maxReconnectDelayMs: 1000,
  maxIdleRooms: 10_000,
  maxIdleHistoryBytes: 67_108_864,
} as const satisfies Required<Omit<RedisAdapterOptions, 'redisOptions' | 'logger' | 'clock'>>

/** The options with their defaults, checked. */
export interface ResolvedRedisOptions {
  url: string
  prefix: string
  commandTimeoutMs: number
  connectTimeoutMs: number
  maxIdleRooms: number
  maxIdleHistoryBytes: number
  logger: Logger | undefined
  /** What the adapter's StoreLink is made with, but its key layout. */
  link: Omit<StoreLinkOptions, 'keys'>
}

/** A positive integer option, or its default; anything else is a configuration error. */
function positive(
  options: RedisAdapterOptions,
  name: 'maxIdleRooms' | 'maxIdleHistoryBytes',
  fallback: number,
) {
  const value = options[name] ?? fallback
  if (!Number.isInteger(value) || value < 1) {
    throw new RoomServerError('invalid_config', `option ${name} is ${value}; expected an integer above 0`)
  }
  return value
}

/** Apply the defaults (see each option's `@default`). */
export function resolveRedisOptions(options: RedisAdapterOptions): ResolvedRedisOptions {
  const d = DEFAULT_REDIS_OPTIONS
  const url = options.url ?? d.url
  const prefix = options.keyPrefix ?? d.keyPrefix
  const commandTimeoutMs = options.commandTimeoutMs ?? d.commandTimeoutMs
  const connectTimeoutMs = options.connectTimeoutMs ?? d.connectTimeoutMs
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? d.maxReconnectDelayMs
  return {
    url,
    prefix,
    commandTimeoutMs,
    connectTimeoutMs,
    maxIdleRooms: positive(options, 'maxIdleRooms', d.maxIdleRooms),
    maxIdleHistoryBytes: positive(options, 'maxIdleHistoryBytes', d.maxIdleHistoryBytes),
    logger: options.logger,
    link: {
      url,
      prefix,
      nodeTtlMs: options.nodeTtlMs ?? d.nodeTtlMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? d.heartbeatIntervalMs,
      reapIntervalMs: options.reapIntervalMs ?? d.reapIntervalMs,
      commandTimeoutMs,
      logger: options.logger,
      clock: options.clock ?? systemClock,
      redisOptions: {
        ...options.redisOptions,
        lazyConnect: true,
        commandTimeout: commandTimeoutMs,
        connectTimeout: Math.min(connectTimeoutMs, 10_000),
        // Never queue or resend a command while disconnected: a resent publish script could publish
        // twice, and a queued one would hang its ack. A caller gets an error at once and retries.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        // The adapter resubscribes itself, so it knows when it is receiving again and can catch up.
        autoResubscribe: false,
        retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxReconnectDelayMs),
      },
    },
  }
}
