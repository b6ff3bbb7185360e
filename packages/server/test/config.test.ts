import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configToMemoryOptions, configToOptions, loadConfig } from '../src/config'
import { envName, flagName } from '../src/config-keys'
import { DEFAULT_LIMITS, DEFAULT_MEMORY_ADAPTER_OPTIONS } from '../src/index'

function dirWith(config?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomwire-config-'))
  if (config !== undefined) writeFileSync(join(dir, 'roomwire.config.json'), JSON.stringify(config))
  return dir
}

describe('loadConfig', () => {
  it('uses the defaults of PROTOCOL.md with no configuration at all', () => {
    const { config, file } = loadConfig({ argv: [], env: {}, cwd: dirWith() })
    expect(file).toBeUndefined()
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      path: '/ws',
      max_message_size_bytes: 65_536,
      ping_interval_secs: 30,
      pong_timeout_secs: 10,
      'rooms.max_members': 1000,
      'rooms.max_rooms_per_connection': 10,
      'rooms.idle_timeout_secs': 3600,
      'rooms.history_size': 100,
      'rooms.max_presence_bytes': 2048,
      'rate_limit.messages_per_sec': 100,
      'rate_limit.burst': 200,
      max_connections: 10_000,
      max_buffered_bytes: 1_048_576,
      'auth.required': false,
    })
  })

  it('reads roomwire.config.json with nested keys', () => {
    const cwd = dirWith({ port: 9000, rooms: { max_members: 50 }, allowed_origins: ['https://a.example'] })
    const { config, file } = loadConfig({ env: {}, cwd })
    expect(file).toBe(join(cwd, 'roomwire.config.json'))
    expect(config).toMatchObject({
      port: 9000,
      'rooms.max_members': 50,
      allowed_origins: ['https://a.example'],
    })
  })

  it('lets the environment override the file, and flags override both', () => {
    const cwd = dirWith({ port: 9000, host: '127.0.0.1', rooms: { max_members: 50 } })
    const { config } = loadConfig({
      cwd,
      env: {
        ROOMWIRE_PORT: '9001',
        ROOMWIRE_ROOMS_MAX_MEMBERS: '60',
        ROOMWIRE_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      },
      argv: ['--port', '9002'],
    })
    expect(config).toMatchObject({
      port: 9002,
      host: '127.0.0.1',
      'rooms.max_members': 60,
      allowed_origins: ['https://a.example', 'https://b.example'],
    })
  })

  it('reads --config, --flag=value and fractional seconds', () => {
    const cwd = dirWith()
    writeFileSync(join(cwd, 'other.json'), JSON.stringify({ ping_interval_secs: 0.5 }))
    const { config } = loadConfig({
      cwd,
      env: {},
      argv: ['--config', 'other.json', '--rooms-history-size=5', '--auth-required', '--auth-jwt-secret', 's'],
    })
    expect(config).toMatchObject({ ping_interval_secs: 0.5, 'rooms.history_size': 5, 'auth.required': true })
    expect(configToOptions(config)).toMatchObject({
      pingIntervalMs: 500,
      historySize: 5,
      auth: { required: true, jwtSecret: 's' },
    })
  })

  it('names env variables and flags after the key', () => {
    expect(envName('max_message_size_bytes')).toBe('ROOMWIRE_MAX_MESSAGE_SIZE_BYTES')
    expect(envName('rooms.max_members')).toBe('ROOMWIRE_ROOMS_MAX_MEMBERS')
    expect(flagName('rooms.max_members')).toBe('--rooms-max-members')
  })

  it.each([
    [
      { ROOMWIRE_PORT: 'abc' },
      [],
      'port (from environment ROOMWIRE_PORT) is "abc"; expected an integer from 0 to 65535',
    ],
    [{}, ['--port', '70000'], 'port (from flag --port) is "70000"'],
    [
      { ROOMWIRE_ROOMS_MAX_MEMBERS: '0' },
      [],
      'rooms.max_members (from environment ROOMWIRE_ROOMS_MAX_MEMBERS) is "0"; expected an integer above 0',
    ],
    [{ ROOMWIRE_PING_INTERVAL_SECS: '-1' }, [], 'expected a number of seconds above 0'],
    [{ ROOMWIRE_AUTH_REQUIRED: 'maybe' }, [], 'expected true or false'],
    [
      { ROOMWIRE_LOG_LEVEL: 'loud' },
      [],
      'log_level (from environment ROOMWIRE_LOG_LEVEL) is "loud"; expected one of',
    ],
    [{ ROOMWIRE_REDIS_URL: 'http://x' }, [], 'expected a URL starting with redis:// or rediss://'],
    [{ ROOMWIRE_ALLOWED_ORIGINS: 'https://a.example/' }, [], 'expected a list of origins'],
    [{ ROOMWIRE_STATIC_DIR: '/does/not/exist' }, [], 'expected the path of an existing directory'],
    [{ ROOMWIRE_PATH: 'ws' }, [], 'expected a path starting with /'],
    [{ ROOMWIRE_NOPE: '1' }, [], 'Unknown environment variable ROOMWIRE_NOPE'],
    [{}, ['--nope', '1'], 'Unknown flag --nope'],
    [{}, ['--port'], '--port needs a value; see --help'],
    [{}, ['--allowed-origins', '--port', '1'], '--allowed-origins needs a value'],
    [{}, ['--config'], '--config needs a value'],
    [
      { ROOMWIRE_AUTH_REQUIRED: 'true' },
      [],
      'auth.required is true but neither auth.jwt_secret nor auth.jwks_url is set',
    ],
  ])('stops with a message naming the key, value and expectation (%o %o)', (env, argv, message) => {
    expect(() => loadConfig({ env, argv, cwd: dirWith() })).toThrow(message)
  })

  it('names the file for a bad value or unknown key in it', () => {
    const cwd = dirWith({ rooms: { max_members: 'many' } })
    expect(() => loadConfig({ env: {}, cwd })).toThrow(
      `rooms.max_members (from ${join(cwd, 'roomwire.config.json')}) is "many"; expected an integer above 0`,
    )
    expect(() => loadConfig({ env: {}, cwd: dirWith({ rooms: { max_member: 5 } }) })).toThrow(
      'Unknown configuration key rooms.max_member',
    )
  })

  it('maps the edge limits (issue 12) onto the server options', () => {
    const cwd = dirWith({
      max_nesting_depth: 16,
      max_connections_per_address: 50,
      trusted_proxies: ['10.0.0.0/8', '::1'],
      rate_limit: { window_secs: 5, bytes_per_sec: 1000, bytes_burst: 70_000 },
      auth: { failures_per_address: 5, failure_window_secs: 30, backoff_secs: 2, backoff_max_secs: 60 },
    })
    expect(configToOptions(loadConfig({ env: {}, cwd }).config)).toMatchObject({
      maxNestingDepth: 16,
      maxConnectionsPerAddress: 50,
      trustedProxies: ['10.0.0.0/8', '::1'],
      rateLimitWindowMs: 5000,
      rateLimitBytesPerSec: 1000,
      rateLimitBytesBurst: 70_000,
      authFailuresPerAddress: 5,
      authFailureWindowMs: 30_000,
      authBackoffMs: 2000,
      authBackoffMaxMs: 60_000,
    })
  })

  it('leaves the byte budget to the server default unless it is configured', () => {
    const options = configToOptions(loadConfig({ env: {}, cwd: dirWith() }).config)
    expect(options.rateLimitBytesPerSec).toBeUndefined()
    expect(options.rateLimitBytesBurst).toBeUndefined()
    expect(options).toMatchObject({ maxNestingDepth: 32, maxConnectionsPerAddress: 1000 })
  })

  it.each([
    [{ ROOMWIRE_MAX_NESTING_DEPTH: '33' }, 'expected an integer from 1 to 32'],
    [{ ROOMWIRE_TRUSTED_PROXIES: '10.0.0.1,proxy.internal' }, 'expected a list of IP addresses or CIDR'],
  ])('refuses an edge limit out of range (%o)', (env, message) => {
    expect(() => loadConfig({ env, cwd: dirWith() })).toThrow(message)
  })

  it('stops when the file is not JSON', () => {
    const cwd = dirWith()
    writeFileSync(join(cwd, 'roomwire.config.json'), '{ port: 1 ')
    expect(() => loadConfig({ env: {}, cwd })).toThrow('is not valid JSON')
  })

  it('maps every key onto the server options in milliseconds', () => {
    const cwd = dirWith({
      rooms: { idle_timeout_secs: 2, max_presence_bytes: 100 },
      pong_timeout_secs: 1.5,
      admin_token: 't',
      compression: true,
      static_dir: '.',
    })
    expect(configToOptions(loadConfig({ env: {}, cwd }).config)).toMatchObject({
      idleTimeoutMs: 2000,
      pongTimeoutMs: 1500,
      maxPresenceBytes: 100,
      adminToken: 't',
      perMessageDeflate: true,
      staticDir: cwd,
      logLevel: 'info',
    })
  })

  it('maps the room bounds of issue 12 onto the server and memory adapter options, with their defaults', () => {
    const defaults = loadConfig({ env: {}, cwd: dirWith() }).config
    expect(configToOptions(defaults)).toMatchObject({
      historyMaxBytes: DEFAULT_LIMITS.historyMaxBytes,
      replayBytesPerSec: DEFAULT_LIMITS.replayBytesPerSec,
      replayBurstBytes: DEFAULT_LIMITS.replayBurstBytes,
      joinDrainTimeoutMs: DEFAULT_LIMITS.joinDrainTimeoutMs,
    })
    expect(configToMemoryOptions(defaults)).toEqual(DEFAULT_MEMORY_ADAPTER_OPTIONS)
    const { config } = loadConfig({
      env: { ROOMWIRE_MEMORY_MAX_IDLE_ROOMS: '50', ROOMWIRE_ROOMS_REPLAY_BYTES_PER_SEC: '0' },
      argv: ['--memory-max-history-bytes', '1000', '--rooms-join-drain-timeout-secs', '0.5'],
      cwd: dirWith({ rooms: { replay_burst_bytes: 4096 } }),
    })
    expect(configToOptions(config)).toMatchObject({
      replayBytesPerSec: 0,
      replayBurstBytes: 4096,
      joinDrainTimeoutMs: 500,
    })
    expect(configToMemoryOptions(config)).toEqual({ maxHistoryBytes: 1000, maxIdleRooms: 50 })
    expect(() => loadConfig({ env: { ROOMWIRE_MEMORY_MAX_IDLE_ROOMS: '0' }, cwd: dirWith() })).toThrow(
      'memory.max_idle_rooms',
    )
  })

  it('gives the memory adapter a state file from state_file, resolved from the working directory', async () => {
    const cwd = dirWith()
    const { config } = loadConfig({ env: { ROOMWIRE_STATE_FILE: 'rooms.jsonl' }, cwd })
    expect(config.state_file).toBe(join(cwd, 'rooms.jsonl'))
    const persist = configToMemoryOptions(config).persist!
    await persist.save([{ room: 'a', epoch: 'e_1', seq: 0, history: [], idleSince: 1 }])
    expect(existsSync(join(cwd, 'rooms.jsonl'))).toBe(true)
    expect(loadConfig({ argv: ['--state-file', 'x.jsonl'], env: {}, cwd }).config.state_file).toBe(
      join(cwd, 'x.jsonl'),
    )
  })

  it('refuses a state_file in a folder that does not exist, or that is a folder', () => {
    const cwd = dirWith()
    expect(() => loadConfig({ argv: ['--state-file', 'nowhere/state.jsonl'], env: {}, cwd })).toThrow(
      'state_file (from flag --state-file) is "nowhere/state.jsonl"; expected a file path in an existing directory',
    )
    expect(() => loadConfig({ argv: ['--state-file', '.'], env: {}, cwd })).toThrow('state_file')
  })

  it('refuses state_file with redis_url, since Redis already outlives the process', () => {
    expect(() =>
      loadConfig({
        argv: ['--state-file', 'state.jsonl', '--redis-url', 'redis://127.0.0.1:6379'],
        env: {},
        cwd: dirWith(),
      }),
    ).toThrow('state_file is for the memory adapter; with redis_url the rooms live in Redis')
  })

  it('takes history.postgres_url with redis_url: the store then continues rooms Redis loses', () => {
    const { config } = loadConfig({
      argv: ['--history-postgres-url', 'postgres://x@127.0.0.1/db', '--redis-url', 'redis://127.0.0.1:6379'],
      env: {},
      cwd: dirWith(),
    })
    expect(config['history.postgres_url']).toBe('postgres://x@127.0.0.1/db')
    expect(config.redis_url).toBe('redis://127.0.0.1:6379')
  })
})
