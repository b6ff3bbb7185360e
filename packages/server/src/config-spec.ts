import type { MemoryAdapterOptions } from './memory-adapter'
import type { AuthOptions, RoomServerOptions } from './options'
import type { RedisAdapterOptions } from './redis/redis-options'

// The shape of the reference server's configuration key table (config-keys.ts).

/** How a value is read and checked (see `EXPECTED` in config-parse.ts). `secs` map to milliseconds. */
export type Kind =
  | 'port'
  | 'int'
  | 'posint'
  | 'number'
  | 'secs'
  | 'bool'
  | 'string'
  | 'list'
  | 'url'
  | 'level'
  | 'dir'
  | 'file'
  | 'path'

/** What the reference server uses itself, beside the server's and the adapters' options. */
export interface CliSettings {
  /** A module exporting the application protocol (loaded by the CLI). */
  protocol?: string
  /** A module exporting the request handlers (loaded by the CLI); else the protocol module's `handlers`. */
  handlers?: string
  /** How long SIGINT/SIGTERM wait for clients to drain. */
  shutdownTimeoutMs: number
}

/** The reference server's durable history (`history.*`): a PostgreSQL store when a URL is set. */
export interface HistorySettings {
  /** PostgreSQL for `createPostgresHistory`; unset: no durable history. */
  postgresUrl?: string
  /** How many days messages are kept there. */
  retentionDays: number
}

/**
 * Where a key's value goes: a path into the options it configures. `server.` is {@link RoomServerOptions},
 * `memory.` {@link MemoryAdapterOptions} (without `redis_url`), `redis.` `RedisAdapterOptions` (with it),
 * `cli.` {@link CliSettings}. Typed, so a renamed option does not compile until its key follows.
 */
export type Target =
  | `server.${Exclude<keyof RoomServerOptions, 'auth'>}`
  | `server.auth.${keyof AuthOptions}`
  | `memory.${keyof MemoryAdapterOptions}`
  | `redis.${keyof RedisAdapterOptions}`
  | `cli.${keyof CliSettings}`
  | `history.${keyof HistorySettings}`

/** A default as the configuration holds it (seconds, not milliseconds). */
export type Literal = string | number | boolean

/** One configuration key. */
export interface KeySpec {
  readonly kind: Kind
  /** One line for --help (the README's table says more, and is checked against this table). */
  readonly doc: string
  readonly to: Target
  /**
   * The reference server's own default, for a key whose target has no default in the library's
   * `DEFAULT_*` tables. Without it (and without `unset`), the key's default is the library's: read from
   * that table, so the two cannot drift.
   */
  readonly default?: Literal
  /**
   * The key has no value unless it is configured (the server then derives one, or a feature stays off);
   * this says what happens then, as --help and the README state it.
   */
  readonly unset?: string
  /** Why this default is not the option's own `@default` (a test holds every other key to it). */
  readonly differs?: string
  /** URL schemes allowed for `url` keys. */
  readonly schemes?: readonly string[]
  /** A check beyond the kind's: the expectation to report, or undefined when the value is fine. */
  readonly check?: (value: never) => string | undefined
  /** Turn the checked value into what the option takes (after seconds became milliseconds). */
  readonly map?: (value: never) => unknown
}

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
