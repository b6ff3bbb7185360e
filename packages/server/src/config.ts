import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { ALL_KEYS, type ConfigKey, defaultOf, envName, isKey, keyOfFlag, specOf } from './config-keys'
import { type ConfigValue, parseFlags, parseValue, readConfigFile } from './config-parse'
import type { CliSettings, HistorySettings } from './config-spec'
import { RoomServerError } from './errors'
import type { MemoryAdapterOptions } from './memory-adapter'
import type { RoomServerOptions } from './options'
import type { RedisAdapterOptions } from './redis/redis-options'

/** A loaded configuration: every key with a value, defaults included. */
export type ServerConfig = { [K in ConfigKey]?: ConfigValue }

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

/**
 * Load the reference server's configuration: defaults, then the JSON file (`--config`, else
 * `roomwire.config.json` in `cwd` if present), then `ROOMWIRE_*` environment variables, then flags. Throws a
 * `RoomServerError('invalid_config')` naming the key, its source, the value and what was expected.
 */
export function loadConfig(input: LoadConfigInput = {}): LoadedConfig {
  const env = input.env ?? process.env
  const cwd = input.cwd ?? process.cwd()
  const flags = parseFlags(input.argv ?? [])
  const byEnv = new Map(ALL_KEYS.map((key) => [envName(key), key]))
  for (const flag of flags.keys()) {
    if (flag !== '--config' && keyOfFlag(flag) === undefined) {
      throw new RoomServerError('invalid_config', `Unknown flag ${flag}; see --help for the flags`)
    }
  }

  const config: ServerConfig = {}
  for (const key of ALL_KEYS) {
    const value = defaultOf(key)
    if (value !== undefined) config[key] = value
  }

  const explicit = flags.get('--config') ?? env.ROOMWIRE_CONFIG
  const file = resolve(cwd, explicit ?? 'roomwire.config.json')
  const read = explicit !== undefined || existsSync(file) ? file : undefined
  if (read !== undefined) {
    for (const [key, value] of readConfigFile(read)) {
      if (!isKey(key))
        throw new RoomServerError('invalid_config', `Unknown configuration key ${key} in ${read}`)
      config[key] = parseValue(key, value, read, false, cwd)
    }
  }

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('ROOMWIRE_') || name === 'ROOMWIRE_CONFIG' || value === undefined) continue
    const key = byEnv.get(name)
    if (key === undefined) throw new RoomServerError('invalid_config', `Unknown environment variable ${name}`)
    config[key] = parseValue(key, value, `environment ${name}`, true, cwd)
  }

  for (const [flag, value] of flags) {
    const key = keyOfFlag(flag)
    if (key !== undefined) config[key] = parseValue(key, value, `flag ${flag}`, true, cwd)
  }
  checkTogether(config)
  return { config, file: read }
}

/** The rules between keys, each valid on its own. */
function checkTogether(config: ServerConfig): void {
  const refuse = (message: string) => {
    throw new RoomServerError('invalid_config', `Invalid configuration: ${message}`)
  }
  const secret = config['auth.jwt_secret'] !== undefined
  const jwks = config['auth.jwks_url'] !== undefined
  if (secret && jwks) refuse('give auth.jwt_secret or auth.jwks_url, not both')
  if (config['auth.required'] === true && !secret && !jwks) {
    refuse('auth.required is true but neither auth.jwt_secret nor auth.jwks_url is set')
  }
  if (config['history.postgres_url'] !== undefined && config.state_file !== undefined) {
    refuse('history.postgres_url keeps every room across restarts already: remove state_file')
  }
  // Redis already outlives every process: a state file beside it would restore rooms Redis still holds.
  if (config.state_file !== undefined && config.redis_url !== undefined) {
    refuse(
      'state_file is for the memory adapter; with redis_url the rooms live in Redis, which keeps their epoch, seq and history across restarts already: remove state_file',
    )
  }
}

/**
 * The options under `root` (the first segment of each key's `to`), from every key with a value: seconds
 * become milliseconds, then the key's `map` applies.
 */
function optionsAt<T>(config: ServerConfig, root: 'server' | 'memory' | 'redis' | 'cli' | 'history'): T {
  const options: Record<string, unknown> = {}
  for (const key of ALL_KEYS) {
    const value = config[key]
    const spec = specOf(key)
    const [head, ...path] = spec.to.split('.')
    if (value === undefined || head !== root) continue
    const scaled = spec.kind === 'secs' ? (value as number) * 1000 : value
    const leaf = path.pop()!
    let at = options
    for (const name of path) {
      at[name] ??= {}
      at = at[name] as Record<string, unknown>
    }
    at[leaf] = spec.map === undefined ? scaled : spec.map(scaled as never)
  }
  return options as unknown as T
}

/** Map a loaded configuration (snake_case, seconds) onto {@link RoomServerOptions} (camelCase, milliseconds). */
export function configToOptions(config: ServerConfig): RoomServerOptions & { port: number; host: string } {
  return optionsAt(config, 'server')
}

/**
 * The memory adapter's options from a loaded configuration (used when `redis_url` is not set); with
 * `state_file`, rooms are kept in that file across a graceful restart (`fileState`).
 */
export function configToMemoryOptions(config: ServerConfig): MemoryAdapterOptions {
  return optionsAt(config, 'memory')
}

/** The Redis adapter's options (used when `redis_url` is set): heartbeat and reaping at 30% of the TTL. */
export function configToRedisOptions(config: ServerConfig): RedisAdapterOptions {
  const options = optionsAt<RedisAdapterOptions & { nodeTtlMs: number }>(config, 'redis')
  const every = Math.max(50, Math.round(options.nodeTtlMs * 0.3))
  return { ...options, heartbeatIntervalMs: every, reapIntervalMs: every }
}

/** The durable history settings (`history.*`). */
export function configToHistorySettings(config: ServerConfig): HistorySettings {
  return optionsAt(config, 'history')
}

/** What the reference server uses itself. */
export function configToCliSettings(config: ServerConfig): CliSettings {
  return optionsAt(config, 'cli')
}
