import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseTrustedProxies } from './client-address'
import { RoomServerError } from './errors'
import type { MemoryAdapterOptions } from './memory-adapter'
import type { RoomServerOptions } from './options'
import { fileState } from './state-file'

type Kind =
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

interface KeySpec {
  kind: Kind
  default?: string | number | boolean
  doc: string
  /** URL schemes allowed for `url` keys. */
  schemes?: string[]
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Every configuration key, its kind, default and one line of documentation (for --help and the README). */
export const CONFIG_KEYS = {
  port: { kind: 'port', default: 8080, doc: 'TCP port to listen on (0: any free port)' },
  host: { kind: 'string', default: '0.0.0.0', doc: 'interface to listen on' },
  path: { kind: 'string', default: '/ws', doc: 'WebSocket path' },
  max_message_size_bytes: {
    kind: 'posint',
    default: 65_536,
    doc: 'largest client frame; larger ones close with 1009',
  },
  ping_interval_secs: { kind: 'secs', default: 30, doc: 'WebSocket ping interval' },
  pong_timeout_secs: {
    kind: 'secs',
    default: 10,
    doc: 'silence allowed after a ping interval before terminating',
  },
  max_connections: { kind: 'posint', default: 10_000, doc: 'open connections; more are closed with 1013' },
  max_connections_per_address: {
    kind: 'int',
    default: 1000,
    doc: 'connections per client address (IPv6: per /64); more are closed with 1013; 0 turns it off',
  },
  trusted_proxies: {
    kind: 'list',
    doc: 'proxy addresses or CIDR ranges whose X-Forwarded-For names the client (comma-separated in env)',
  },
  max_nesting_depth: {
    kind: 'posint',
    default: 32,
    doc: 'levels data and presence state may nest (at most 32); deeper frames get bad_request',
  },
  max_buffered_bytes: {
    kind: 'posint',
    default: 1_048_576,
    doc: 'outgoing bytes waiting per connection before 4008',
  },
  'rate_limit.messages_per_sec': {
    kind: 'number',
    default: 100,
    doc: 'messages per second per connection; 0 turns it off',
  },
  'rate_limit.burst': {
    kind: 'int',
    default: 200,
    doc: 'burst size; also how many refusals within rate_limit.window_secs close with 1008 (or refused bytes past rate_limit.bytes_burst)',
  },
  'rate_limit.window_secs': {
    kind: 'secs',
    default: 10,
    doc: 'sliding window over which rate-limit refusals are counted for the 1008 close',
  },
  'rate_limit.bytes_per_sec': {
    kind: 'int',
    doc: 'frame bytes per second per connection, ping included (default 262144, or 0 when rate_limit.messages_per_sec is 0); 0 turns it off',
  },
  'rate_limit.bytes_burst': {
    kind: 'posint',
    doc: 'byte budget bucket size, at least max_message_size_bytes (default 1048576, or max_message_size_bytes when larger)',
  },
  'rooms.max_members': { kind: 'posint', default: 1000, doc: 'members per room (room_full)' },
  'rooms.max_rooms_per_connection': {
    kind: 'posint',
    default: 10,
    doc: 'rooms per connection (too_many_rooms)',
  },
  'rooms.idle_timeout_secs': {
    kind: 'secs',
    default: 3600,
    doc: "how long an empty room's seq, epoch and history are kept",
  },
  'rooms.history_size': {
    kind: 'int',
    default: 100,
    doc: 'messages kept per room for resume, replay and dedupe',
  },
  'rooms.history_max_bytes': {
    kind: 'posint',
    default: 1_048_576,
    doc: "bytes of messages a room's history may hold (the oldest go first)",
  },
  'rooms.replay_bytes_per_sec': {
    kind: 'number',
    default: 1_048_576,
    doc: "bytes a second one connection's joins may send of members and history; 0 turns it off (rate_limited)",
  },
  'rooms.replay_burst_bytes': {
    kind: 'posint',
    default: 33_554_432,
    doc: "what a connection's replay budget holds when full (and when it connects)",
  },
  'rooms.join_drain_timeout_secs': {
    kind: 'secs',
    default: 30,
    doc: "how long a join's member pages and replay wait for the socket to drain before 4008",
  },
  'memory.max_history_bytes': {
    kind: 'posint',
    default: 134_217_728,
    doc: 'without redis_url: bytes of history all rooms may hold (least recently used rooms lose messages first)',
  },
  'memory.max_idle_rooms': {
    kind: 'posint',
    default: 10_000,
    doc: 'without redis_url: empty rooms kept for resume (the one empty longest is freed first)',
  },
  state_file: {
    kind: 'path',
    doc: "without redis_url: a file that keeps every room's epoch, seq and history across a graceful restart (read and deleted at start, written at shutdown)",
  },
  'rooms.max_presence_bytes': {
    kind: 'posint',
    default: 2048,
    doc: 'largest presence state in JSON bytes (too_large)',
  },
  'auth.required': { kind: 'bool', default: false, doc: 'refuse connections without a valid token (4001)' },
  'auth.failures_per_address': {
    kind: 'int',
    default: 20,
    doc: 'failed authentications per address within auth.failure_window_secs that start a backoff (1013); 0 off',
  },
  'auth.failure_window_secs': {
    kind: 'secs',
    default: 60,
    doc: 'sliding window over which failed authentications per address are counted',
  },
  'auth.backoff_secs': {
    kind: 'secs',
    default: 5,
    doc: "first backoff of an address's upgrades; each further one doubles",
  },
  'auth.backoff_max_secs': {
    kind: 'secs',
    default: 300,
    doc: 'longest backoff; an address quiet this long starts over',
  },
  'auth.jwt_secret': { kind: 'string', doc: 'HS256 secret for JWT tokens' },
  'auth.jwks_url': {
    kind: 'url',
    schemes: ['http:', 'https:'],
    doc: 'JWKS URL for JWT tokens (RS256, ES256, EdDSA...)',
  },
  admin_token: { kind: 'string', doc: 'enables the admin API with Authorization: Bearer <admin_token>' },
  allowed_origins: {
    kind: 'list',
    doc: 'exact Origin values allowed (comma-separated in env); others get 403',
  },
  log_level: { kind: 'level', default: 'info', doc: `log level: ${LEVELS.join(', ')}` },
  static_dir: { kind: 'dir', doc: 'a folder of files to serve over HTTP (the demo)' },
  protocol: {
    kind: 'file',
    doc: 'a JavaScript module whose export is a defineProtocol() result: validates events and presence',
  },
  redis_url: { kind: 'url', schemes: ['redis:', 'rediss:'], doc: 'Redis to span several server processes' },
  redis_key_prefix: {
    kind: 'string',
    default: 'roomwire:',
    doc: 'prefix of every Redis key and channel (several clusters can share one Redis)',
  },
  redis_node_ttl_secs: {
    kind: 'secs',
    default: 5,
    doc: 'a node silent this long is dead and its members leave (heartbeat every 30% of it)',
  },
  redis_max_idle_rooms: {
    kind: 'posint',
    default: 10_000,
    doc: 'rooms without members whose state Redis keeps, cluster-wide; past it the longest idle are freed',
  },
  redis_max_idle_history_bytes: {
    kind: 'posint',
    default: 67_108_864,
    doc: 'bytes of history the rooms without members may hold in Redis; past it the longest idle are freed',
  },
  compression: { kind: 'bool', default: false, doc: 'negotiate permessage-deflate' },
  shutdown_timeout_secs: {
    kind: 'secs',
    default: 10,
    doc: 'on SIGINT/SIGTERM, how long to wait for clients to drain',
  },
} satisfies Record<string, KeySpec>

/** A configuration key, as in the file (dotted for nested objects). */
export type ConfigKey = keyof typeof CONFIG_KEYS

/** One configuration value. */
export type ConfigValue = string | number | boolean | string[]

/** A loaded configuration: every key with a value, defaults included. */
export type ServerConfig = { [K in ConfigKey]?: ConfigValue }

/** The environment variable of a key: `rooms.max_members` → `ROOMWIRE_ROOMS_MAX_MEMBERS`. */
export function envName(key: string): string {
  return `ROOMWIRE_${key.toUpperCase().replaceAll('.', '_')}`
}

/** The command-line flag of a key: `rooms.max_members` → `--rooms-max-members`. */
export function flagName(key: string): string {
  return `--${key.replaceAll(/[._]/g, '-')}`
}

const EXPECTED: Record<Kind, string> = {
  port: 'an integer from 0 to 65535',
  int: 'an integer of 0 or more',
  posint: 'an integer above 0',
  number: 'a number of 0 or more',
  secs: 'a number of seconds above 0 (fractions allowed)',
  bool: 'true or false',
  string: 'a non-empty string',
  list: 'a list of strings (comma-separated outside the file)',
  url: 'a URL',
  level: `one of ${LEVELS.join(', ')}`,
  dir: 'the path of an existing directory',
  file: 'the path of an existing file',
  path: 'a file path in an existing directory (not a directory itself)',
}

function invalid(key: string, source: string, value: unknown, expected: string): RoomServerError {
  return new RoomServerError(
    'invalid_config',
    `Invalid configuration: ${key} (from ${source}) is ${JSON.stringify(value)}; expected ${expected}`,
  )
}

/** Parse and check one value; strings from the environment or flags are converted by kind. */
function parseValue(key: ConfigKey, raw: unknown, source: string, fromText: boolean, cwd: string): unknown {
  const spec: KeySpec = CONFIG_KEYS[key]
  const fail = (expected = EXPECTED[spec.kind]) => invalid(key, source, raw, expected)
  let value = raw
  switch (spec.kind) {
    case 'port':
    case 'int':
    case 'posint':
    case 'number':
    case 'secs': {
      if (fromText && typeof raw === 'string' && raw.trim() !== '') value = Number(raw)
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail()
      const integer = spec.kind !== 'number' && spec.kind !== 'secs'
      if (integer && !Number.isSafeInteger(value)) throw fail()
      if (value < 0 || ((spec.kind === 'posint' || spec.kind === 'secs') && value === 0)) throw fail()
      if (spec.kind === 'port' && value > 65_535) throw fail()
      if (key === 'max_nesting_depth' && value > 32) throw fail('an integer from 1 to 32')
      return value
    }
    case 'bool':
      if (fromText && typeof raw === 'string') {
        const lower = raw.trim().toLowerCase()
        if (['true', '1', 'yes', 'on'].includes(lower)) return true
        if (['false', '0', 'no', 'off'].includes(lower)) return false
      }
      if (typeof value !== 'boolean') throw fail()
      return value
    case 'string':
      if (typeof value !== 'string' || value === '') throw fail()
      if (key === 'path' && !value.startsWith('/')) throw fail('a path starting with /')
      return value
    case 'level':
      if (typeof value !== 'string' || !(LEVELS as readonly string[]).includes(value)) throw fail()
      return value
    case 'url': {
      if (typeof value !== 'string') throw fail()
      let url: URL
      try {
        url = new URL(value)
      } catch {
        throw fail()
      }
      if (spec.schemes !== undefined && !spec.schemes.includes(url.protocol)) {
        throw fail(`a URL starting with ${spec.schemes.map((s) => `${s}//`).join(' or ')}`)
      }
      return value
    }
    case 'file': {
      if (typeof value !== 'string' || value === '') throw fail()
      const file = resolve(cwd, value)
      if (!existsSync(file) || !statSync(file).isFile()) throw fail()
      return file
    }
    case 'path': {
      if (typeof value !== 'string' || value === '') throw fail()
      const file = resolve(cwd, value)
      const folder = dirname(file)
      if (!existsSync(folder) || !statSync(folder).isDirectory()) throw fail()
      if (existsSync(file) && statSync(file).isDirectory()) throw fail()
      return file
    }
    case 'dir': {
      if (typeof value !== 'string' || value === '') throw fail()
      const dir = resolve(cwd, value)
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw fail()
      return dir
    }
    case 'list': {
      if (fromText && typeof raw === 'string') {
        value = raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      }
      if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s !== '')) throw fail()
      if (key === 'trusted_proxies') {
        try {
          parseTrustedProxies(value as string[])
        } catch {
          throw fail('a list of IP addresses or CIDR ranges such as 10.0.0.0/8')
        }
      }
      if (key === 'allowed_origins') {
        for (const origin of value as string[]) {
          let normalized: string | undefined
          try {
            normalized = new URL(origin).origin
          } catch {}
          if (normalized !== origin)
            throw fail(`a list of origins such as https://app.example (no path, no trailing /)`)
        }
      }
      return value
    }
  }
}

function isKey(key: string): key is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, key)
}

/** Flatten `{ rooms: { max_members: 5 } }` to `rooms.max_members`; dotted keys are taken as they are. */
function flatten(
  input: Record<string, unknown>,
  prefix = '',
  out = new Map<string, unknown>(),
): Map<string, unknown> {
  for (const [name, value] of Object.entries(input)) {
    const key = prefix + name
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !isKey(key)) {
      flatten(value as Record<string, unknown>, `${key}.`, out)
    } else out.set(key, value)
  }
  return out
}

/** Where configuration comes from; all optional so tests can pass their own. */
export interface LoadConfigInput {
  /** Command-line arguments after the script (flags). */
  argv?: readonly string[]
  env?: Record<string, string | undefined>
  cwd?: string
}

/** What {@link loadConfig} returns. */
export interface LoadedConfig {
  config: ServerConfig
  /** The file read, if any. */
  file: string | undefined
}

/** Split argv into `--flag value` pairs; `--flag=value` and bare boolean flags work too. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      throw new RoomServerError(
        'invalid_config',
        `Invalid argument ${JSON.stringify(arg)}; expected --flag value`,
      )
    }
    const eq = arg.indexOf('=')
    if (eq !== -1) {
      flags.set(arg.slice(0, eq), arg.slice(eq + 1))
      continue
    }
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) flags.set(arg, 'true')
    else {
      flags.set(arg, next)
      i++
    }
  }
  return flags
}

/**
 * Load the reference server's configuration: defaults, then the JSON file (`--config`, else
 * `roomwire.config.json` in `cwd` if present), then `ROOMWIRE_*` environment variables, then flags. Throws a
 * `RoomServerError('invalid_config')` naming the key, its source, the value and what was expected.
 */
export function loadConfig(input: LoadConfigInput = {}): LoadedConfig {
  const env = input.env ?? process.env
  const cwd = input.cwd ?? process.cwd()
  const flags = parseFlags(input.argv ?? [])
  const byFlag = new Map(Object.keys(CONFIG_KEYS).map((key) => [flagName(key), key as ConfigKey]))
  for (const flag of flags.keys()) {
    if (flag !== '--config' && !byFlag.has(flag)) {
      throw new RoomServerError('invalid_config', `Unknown flag ${flag}; see --help for the flags`)
    }
  }

  const config: ServerConfig = {}
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeySpec][]) {
    if (spec.default !== undefined) config[key] = spec.default
  }

  const explicit = flags.get('--config') ?? env.ROOMWIRE_CONFIG
  const file = explicit === undefined ? resolve(cwd, 'roomwire.config.json') : resolve(cwd, explicit)
  let read: string | undefined
  if (explicit !== undefined || existsSync(file)) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (cause) {
      throw new RoomServerError('invalid_config', `Cannot read the configuration file ${file}`, { cause })
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      throw new RoomServerError(
        'invalid_config',
        `The configuration file ${file} is not valid JSON (${(cause as Error).message})`,
      )
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new RoomServerError('invalid_config', `The configuration file ${file} must hold a JSON object`)
    }
    for (const [key, value] of flatten(json as Record<string, unknown>)) {
      if (!isKey(key))
        throw new RoomServerError('invalid_config', `Unknown configuration key ${key} in ${file}`)
      config[key] = parseValue(key, value, file, false, cwd) as ConfigValue
    }
    read = file
  }

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('ROOMWIRE_') || name === 'ROOMWIRE_CONFIG' || value === undefined) continue
    const key = (Object.keys(CONFIG_KEYS) as ConfigKey[]).find((k) => envName(k) === name)
    if (key === undefined) throw new RoomServerError('invalid_config', `Unknown environment variable ${name}`)
    config[key] = parseValue(key, value, `environment ${name}`, true, cwd) as ConfigValue
  }

  for (const [flag, value] of flags) {
    const key = byFlag.get(flag)
    if (key === undefined) continue
    config[key] = parseValue(key, value, `flag ${flag}`, true, cwd) as ConfigValue
  }

  if (config['auth.jwt_secret'] !== undefined && config['auth.jwks_url'] !== undefined) {
    throw new RoomServerError(
      'invalid_config',
      'Invalid configuration: give auth.jwt_secret or auth.jwks_url, not both',
    )
  }
  if (
    config['auth.required'] === true &&
    config['auth.jwt_secret'] === undefined &&
    config['auth.jwks_url'] === undefined
  ) {
    throw new RoomServerError(
      'invalid_config',
      'Invalid configuration: auth.required is true but neither auth.jwt_secret nor auth.jwks_url is set',
    )
  }
  // Redis already outlives every process: a state file beside it would restore rooms Redis still holds.
  if (config.state_file !== undefined && config.redis_url !== undefined) {
    throw new RoomServerError(
      'invalid_config',
      'Invalid configuration: state_file is for the memory adapter; with redis_url the rooms live in Redis, which keeps their epoch, seq and history across restarts already: remove state_file',
    )
  }
  return { config, file: read }
}

/** Map a loaded configuration (snake_case, seconds) onto {@link RoomServerOptions} (camelCase, milliseconds). */
export function configToOptions(config: ServerConfig): RoomServerOptions & { port: number; host: string } {
  const num = (key: ConfigKey) => config[key] as number
  const str = (key: ConfigKey) => config[key] as string | undefined
  const options: RoomServerOptions & { port: number; host: string } = {
    port: num('port'),
    host: str('host')!,
    path: str('path')!,
    maxMessageBytes: num('max_message_size_bytes'),
    pingIntervalMs: num('ping_interval_secs') * 1000,
    pongTimeoutMs: num('pong_timeout_secs') * 1000,
    maxConnections: num('max_connections'),
    maxBufferedBytes: num('max_buffered_bytes'),
    rateLimitPerSec: num('rate_limit.messages_per_sec'),
    rateLimitBurst: num('rate_limit.burst'),
    rateLimitWindowMs: num('rate_limit.window_secs') * 1000,
    maxConnectionsPerAddress: num('max_connections_per_address'),
    maxNestingDepth: num('max_nesting_depth'),
    authFailuresPerAddress: num('auth.failures_per_address'),
    authFailureWindowMs: num('auth.failure_window_secs') * 1000,
    authBackoffMs: num('auth.backoff_secs') * 1000,
    authBackoffMaxMs: num('auth.backoff_max_secs') * 1000,
    maxMembersPerRoom: num('rooms.max_members'),
    maxRoomsPerConnection: num('rooms.max_rooms_per_connection'),
    idleTimeoutMs: num('rooms.idle_timeout_secs') * 1000,
    historySize: num('rooms.history_size'),
    historyMaxBytes: num('rooms.history_max_bytes'),
    replayBytesPerSec: num('rooms.replay_bytes_per_sec'),
    replayBurstBytes: num('rooms.replay_burst_bytes'),
    joinDrainTimeoutMs: num('rooms.join_drain_timeout_secs') * 1000,
    maxPresenceBytes: num('rooms.max_presence_bytes'),
    perMessageDeflate: config.compression === true,
    logLevel: config.log_level as NonNullable<RoomServerOptions['logLevel']>,
    auth: { required: config['auth.required'] === true },
  }
  const secret = str('auth.jwt_secret')
  const jwks = str('auth.jwks_url')
  if (secret !== undefined) options.auth!.jwtSecret = secret
  if (jwks !== undefined) options.auth!.jwksUrl = jwks
  const admin = str('admin_token')
  if (admin !== undefined) options.adminToken = admin
  if (config.allowed_origins !== undefined) options.allowedOrigins = config.allowed_origins as string[]
  if (config.trusted_proxies !== undefined) options.trustedProxies = config.trusted_proxies as string[]
  if (config['rate_limit.bytes_per_sec'] !== undefined) {
    options.rateLimitBytesPerSec = num('rate_limit.bytes_per_sec')
  }
  if (config['rate_limit.bytes_burst'] !== undefined) {
    options.rateLimitBytesBurst = num('rate_limit.bytes_burst')
  }
  const dir = str('static_dir')
  if (dir !== undefined) options.staticDir = dir
  return options
}

/**
 * The memory adapter's options from a loaded configuration (used when `redis_url` is not set); with
 * `state_file`, rooms are kept in that file across a graceful restart ({@link fileState}).
 */
export function configToMemoryOptions(config: ServerConfig): MemoryAdapterOptions {
  const options: MemoryAdapterOptions = {
    maxHistoryBytes: config['memory.max_history_bytes'] as number,
    maxIdleRooms: config['memory.max_idle_rooms'] as number,
  }
  if (typeof config.state_file === 'string') options.persist = fileState(config.state_file)
  return options
}
