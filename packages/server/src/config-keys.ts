import { parseTrustedProxies } from './client-address'
import { HISTORY_KEYS } from './config-keys-history'
import { REDIS_KEYS } from './config-keys-redis'
import { type KeySpec, LEVELS, type Literal, type Target } from './config-spec'
import { DEFAULT_LIMITS } from './limits'
import { DEFAULT_MEMORY_ADAPTER_OPTIONS } from './memory-adapter'
import { DEFAULT_REDIS_OPTIONS } from './redis/redis-options'

function checkOrigins(origins: string[]): string | undefined {
  for (const origin of origins) {
    let normalized: string | undefined
    try {
      normalized = new URL(origin).origin
    } catch {}
    if (normalized !== origin) return 'a list of origins such as https://app.example (no path, no trailing /)'
  }
  return undefined
}

function checkProxies(proxies: string[]): string | undefined {
  try {
    parseTrustedProxies(proxies)
    return undefined
  } catch {
    return 'a list of IP addresses or CIDR ranges such as 10.0.0.0/8'
  }
}

/**
 * Every configuration key of the reference server: its kind, where it maps, its default and one line of
 * documentation. Defaults, the option mapping, --help and the README's table all come from here
 * (docs/decisions/002-config-key-table.md).
 */
export const CONFIG_KEYS = {
  port: { kind: 'port', to: 'server.port', default: 8080, doc: 'TCP port to listen on (0: any free port)' },
  host: { kind: 'string', to: 'server.host', default: '0.0.0.0', doc: 'interface to listen on' },
  listen_backlog: {
    kind: 'posint',
    to: 'server.backlog',
    default: 4096,
    doc: 'connections the kernel holds before dropping new ones (capped by net.core.somaxconn)',
  },
  path: {
    kind: 'string',
    to: 'server.path',
    default: '/ws',
    doc: 'WebSocket path',
    check: (value: string) => (value.startsWith('/') ? undefined : 'a path starting with /'),
  },
  max_message_size_bytes: {
    kind: 'posint',
    to: 'server.maxMessageBytes',
    doc: 'largest client frame; larger ones close with 1009',
  },
  ping_interval_secs: { kind: 'secs', to: 'server.pingIntervalMs', doc: 'WebSocket ping interval' },
  pong_timeout_secs: {
    kind: 'secs',
    to: 'server.pongTimeoutMs',
    doc: 'silence allowed after a ping interval before terminating',
  },
  max_connections: {
    kind: 'posint',
    to: 'server.maxConnections',
    doc: 'open connections; more are closed with 1013',
  },
  max_connections_per_address: {
    kind: 'int',
    to: 'server.maxConnectionsPerAddress',
    doc: 'connections per client address (IPv6: per /64); more are closed with 1013; 0 turns it off',
  },
  trusted_proxies: {
    kind: 'list',
    to: 'server.trustedProxies',
    doc: 'proxy addresses or CIDR ranges whose X-Forwarded-For names the client (comma-separated in env)',
    check: checkProxies,
  },
  max_nesting_depth: {
    kind: 'posint',
    to: 'server.maxNestingDepth',
    doc: 'levels data and presence state may nest (at most 32); deeper frames get bad_request',
    check: (value: number) => (value > 32 ? 'an integer from 1 to 32' : undefined),
  },
  max_buffered_bytes: {
    kind: 'posint',
    to: 'server.maxBufferedBytes',
    doc: 'outgoing bytes waiting per connection before 4008',
  },
  'rate_limit.messages_per_sec': {
    kind: 'number',
    to: 'server.rateLimitPerSec',
    doc: 'messages per second per connection; 0 turns it off',
  },
  'rate_limit.burst': {
    kind: 'int',
    to: 'server.rateLimitBurst',
    doc: 'burst size; also how many refusals within rate_limit.window_secs close with 1008 (or refused bytes past rate_limit.bytes_burst)',
  },
  'rate_limit.window_secs': {
    kind: 'secs',
    to: 'server.rateLimitWindowMs',
    doc: 'sliding window over which rate-limit refusals are counted for the 1008 close',
  },
  'rate_limit.bytes_per_sec': {
    kind: 'int',
    to: 'server.rateLimitBytesPerSec',
    unset: '262144, or 0 when rate_limit.messages_per_sec is 0',
    doc: 'frame bytes per second per connection, ping included; 0 turns it off',
  },
  'rate_limit.bytes_burst': {
    kind: 'posint',
    to: 'server.rateLimitBytesBurst',
    unset: '1048576, or max_message_size_bytes when larger',
    doc: 'byte budget bucket size, at least max_message_size_bytes',
  },
  'rooms.max_members': {
    kind: 'posint',
    to: 'server.maxMembersPerRoom',
    doc: 'members per room (room_full)',
  },
  'rooms.member_list_max': {
    kind: 'int',
    to: 'server.memberListMax',
    doc: 'rooms above this many members send counts and member pages instead of the list; 0: always the list',
  },
  'rooms.max_rooms_per_connection': {
    kind: 'posint',
    to: 'server.maxRoomsPerConnection',
    doc: 'rooms per connection (too_many_rooms)',
  },
  'rooms.idle_timeout_secs': {
    kind: 'secs',
    to: 'server.idleTimeoutMs',
    doc: "how long an empty room's seq, epoch and history are kept",
  },
  'rooms.history_size': {
    kind: 'int',
    to: 'server.historySize',
    doc: 'messages kept per room for resume, replay and dedupe',
  },
  'rooms.history_max_bytes': {
    kind: 'posint',
    to: 'server.historyMaxBytes',
    doc: "bytes of messages a room's history may hold (the oldest go first)",
  },
  'rooms.history_page_max': {
    kind: 'posint',
    to: 'server.historyPageMax',
    doc: 'messages one history page may hold at most (a client limit is clamped to it; the default page is 50)',
  },
  'rooms.replay_bytes_per_sec': {
    kind: 'number',
    to: 'server.replayBytesPerSec',
    doc: "bytes a second one connection's joins may send of members and history; 0 turns it off (rate_limited)",
  },
  'rooms.replay_burst_bytes': {
    kind: 'posint',
    to: 'server.replayBurstBytes',
    doc: "what a connection's replay budget holds when full (and when it connects)",
  },
  'rooms.join_drain_timeout_secs': {
    kind: 'secs',
    to: 'server.joinDrainTimeoutMs',
    doc: "how long a join's member pages and replay wait for the socket to drain before 4008",
  },
  ...HISTORY_KEYS,
  'rooms.max_presence_bytes': {
    kind: 'posint',
    to: 'server.maxPresenceBytes',
    doc: 'largest presence state in JSON bytes (too_large)',
  },
  'auth.required': {
    kind: 'bool',
    to: 'server.auth.required',
    default: false,
    doc: 'refuse connections without a valid token (4001)',
  },
  'auth.failures_per_address': {
    kind: 'int',
    to: 'server.authFailuresPerAddress',
    doc: 'failed authentications per address within auth.failure_window_secs that start a backoff (1013); 0 off',
  },
  'auth.failure_window_secs': {
    kind: 'secs',
    to: 'server.authFailureWindowMs',
    doc: 'sliding window over which failed authentications per address are counted',
  },
  'auth.backoff_secs': {
    kind: 'secs',
    to: 'server.authBackoffMs',
    doc: "first backoff of an address's upgrades; each further one doubles",
  },
  'auth.backoff_max_secs': {
    kind: 'secs',
    to: 'server.authBackoffMaxMs',
    doc: 'longest backoff; an address quiet this long starts over',
  },
  'auth.jwt_secret': { kind: 'string', to: 'server.auth.jwtSecret', doc: 'HS256 secret for JWT tokens' },
  'auth.jwks_url': {
    kind: 'url',
    to: 'server.auth.jwksUrl',
    schemes: ['http:', 'https:'],
    doc: 'JWKS URL for JWT tokens (RS256, ES256, EdDSA...)',
  },
  admin_token: {
    kind: 'string',
    to: 'server.adminToken',
    unset: 'none (admin API off)',
    doc: 'enables the admin API with Authorization: Bearer <admin_token>',
  },
  allowed_origins: {
    kind: 'list',
    to: 'server.allowedOrigins',
    unset: 'any',
    doc: 'exact Origin values allowed (comma-separated in env); others get 403',
    check: checkOrigins,
  },
  log_level: {
    kind: 'level',
    to: 'server.logLevel',
    default: 'info',
    differs: 'a library is silent unless asked; a server run from a terminal says what it does',
    doc: `log level: ${LEVELS.join(', ')}`,
  },
  static_dir: { kind: 'dir', to: 'server.staticDir', doc: 'a folder of files to serve over HTTP (the demo)' },
  protocol: {
    kind: 'file',
    to: 'cli.protocol',
    doc: 'a JavaScript module whose export is a defineProtocol() result: validates events and presence',
  },
  handlers: {
    kind: 'file',
    to: 'cli.handlers',
    doc: "a JavaScript module exporting the request handlers (default or `handlers`); else the protocol module's `handlers` export",
  },
  'requests.timeout_secs': {
    kind: 'secs',
    to: 'server.requestTimeoutMs',
    doc: 'how long a request handler may run before its caller gets timeout',
  },
  'requests.max_in_flight': {
    kind: 'posint',
    to: 'server.maxRequestsInFlight',
    doc: 'requests one connection may have being handled at once (too_many_requests)',
  },
  'requests.dedupe_secs': {
    kind: 'secs',
    to: 'server.requestDedupeMs',
    doc: 'how long the reply of an idempotent request answers a resend with the same id',
  },
  'requests.dedupe_entries': {
    kind: 'int',
    to: 'server.requestDedupeEntries',
    doc: 'replies of idempotent requests this node remembers (0: none)',
  },
  ...REDIS_KEYS,
  compression: {
    kind: 'bool',
    to: 'server.perMessageDeflate',
    default: false,
    doc: 'negotiate permessage-deflate',
  },
  shutdown_timeout_secs: {
    kind: 'secs',
    to: 'cli.shutdownTimeoutMs',
    default: 10,
    doc: 'on SIGINT/SIGTERM, how long to wait for clients to drain and requests being handled to answer',
  },
} as const satisfies Record<string, KeySpec>

/** A configuration key, as in the file (dotted for nested objects). */
export type ConfigKey = keyof typeof CONFIG_KEYS

/** The spec of `key`, widened for code that handles every key alike. */
export function specOf(key: ConfigKey): KeySpec {
  return CONFIG_KEYS[key]
}

/** Every key, in table order. */
export const ALL_KEYS = Object.keys(CONFIG_KEYS) as ConfigKey[]

/** Whether `key` names a configuration key. */
export function isKey(key: string): key is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, key)
}

/** The environment variable of a key: `rooms.max_members` → `ROOMWIRE_ROOMS_MAX_MEMBERS`. */
export function envName(key: string): string {
  return `ROOMWIRE_${key.toUpperCase().replaceAll('.', '_')}`
}

/** The command-line flag of a key: `rooms.max_members` → `--rooms-max-members`. */
export function flagName(key: string): string {
  return `--${key.replaceAll(/[._]/g, '-')}`
}

const BY_FLAG = new Map(ALL_KEYS.map((key) => [flagName(key), key]))

/** The key a flag sets (`--max-connections`: max_connections), or undefined for an unknown flag. */
export function keyOfFlag(flag: string): ConfigKey | undefined {
  return BY_FLAG.get(flag)
}

const LIBRARY_DEFAULTS: Record<string, Readonly<Record<string, unknown>>> = {
  server: { ...DEFAULT_LIMITS },
  memory: DEFAULT_MEMORY_ADAPTER_OPTIONS,
  redis: DEFAULT_REDIS_OPTIONS,
}

/** The library's default of a target, in the option's units (milliseconds), when it has one. */
export function libraryDefault(to: Target): unknown {
  const [root, ...path] = to.split('.')
  return path.length === 1 ? LIBRARY_DEFAULTS[root!]?.[path[0]!] : undefined
}

/**
 * A key's default in the configuration's units (seconds): its own, else the library's (unless the key is
 * `unset` by default), else none.
 */
export function defaultOf(key: ConfigKey): Literal | undefined {
  const spec = specOf(key)
  if (spec.default !== undefined) return spec.default
  if (spec.unset !== undefined) return undefined
  const value = libraryDefault(spec.to)
  if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') return undefined
  return spec.kind === 'secs' ? (value as number) / 1000 : value
}

/** The default as --help and the README state it. */
export function documentedDefault(key: ConfigKey): string {
  const value = defaultOf(key)
  if (value !== undefined) return String(value)
  return specOf(key).unset ?? 'none'
}
