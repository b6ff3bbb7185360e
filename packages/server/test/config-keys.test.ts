import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  configToCliSettings,
  configToHistorySettings,
  configToMemoryOptions,
  configToOptions,
  configToRedisOptions,
  loadConfig,
  type ServerConfig,
} from '../src/config'
import {
  ALL_KEYS,
  type ConfigKey,
  defaultOf,
  documentedDefault,
  envName,
  flagName,
  libraryDefault,
  specOf,
} from '../src/config-keys'
import type { Kind } from '../src/config-spec'
import { resolveLimits } from '../src/limits'
import { resolveRedisOptions } from '../src/redis/redis-options'

// The key table (config-keys.ts) is the one source of the reference server's defaults, option mapping,
// --help and README table: these tests keep the others from drifting from it.

const source = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8')

/** A valid value of each kind, as a loaded configuration holds it. */
const SAMPLE: Record<Kind, unknown> = {
  port: 1,
  int: 1,
  posint: 1,
  number: 1,
  secs: 1,
  bool: true,
  string: '/x',
  list: ['10.0.0.1'],
  url: 'redis://127.0.0.1:1',
  level: 'warn',
  dir: tmpdir(),
  file: join(tmpdir(), 'protocol.js'),
  path: join(tmpdir(), 'state.jsonl'),
}

/** What every mapping makes of `config`, by the first segment of a key's `to`. */
function mapped(config: ServerConfig): Record<string, unknown> {
  return {
    server: configToOptions(config),
    memory: configToMemoryOptions(config),
    redis: configToRedisOptions(config),
    cli: configToCliSettings(config),
    history: configToHistorySettings(config),
  }
}

function at(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, name) => (value as Record<string, unknown>)?.[name], root)
}

/** `@default` of each option documented in a TSDoc'd interface file, by option name. */
function docDefaults(file: string): Map<string, string> {
  const defaults = new Map<string, string>()
  let pending: string | undefined
  for (const line of source(file).split('\n')) {
    const tag = /@default (.+?)(?: \*\/)?$/.exec(line)
    if (tag !== null) pending = tag[1]
    const option = /^\s*(\w+)\?:/.exec(line)
    if (option === null) continue
    if (pending !== undefined) defaults.set(option[1]!, pending)
    pending = undefined
  }
  return defaults
}

/** The first word of a stated default, as a value: `1_048_576, or ...` is 1048576, `'/ws'` is /ws. */
function firstWord(text: string): string {
  const word = text
    .replaceAll('`', '')
    .split(/[\s,(]/)[0]!
    .replaceAll("'", '')
  return /^[\d_]+$/.test(word) ? word.replaceAll('_', '') : word
}

const OPTION_DOCS: Record<string, Map<string, string>> = {
  server: docDefaults('../src/options.ts'),
  memory: docDefaults('../src/memory-adapter.ts'),
  redis: docDefaults('../src/redis/redis-options.ts'),
}

describe('the configuration key table', () => {
  it('maps every key onto an option, and no two keys onto the same one', () => {
    const config = Object.fromEntries(ALL_KEYS.map((key) => [key, SAMPLE[specOf(key).kind]]))
    const options = mapped(config as ServerConfig)
    for (const key of ALL_KEYS) {
      expect(at(options, specOf(key).to), `${key} → ${specOf(key).to}`).toBeDefined()
    }
    const targets = ALL_KEYS.map((key) => specOf(key).to)
    expect(new Set(targets).size).toBe(targets.length)
  })

  it('gives each key a distinct env name and flag', () => {
    expect(new Set(ALL_KEYS.map(envName)).size).toBe(ALL_KEYS.length)
    expect(new Set(ALL_KEYS.map(flagName)).size).toBe(ALL_KEYS.length)
  })

  it("takes a key's default from the library, and never restates it", () => {
    for (const key of ALL_KEYS) {
      const spec = specOf(key)
      const library = libraryDefault(spec.to)
      if (spec.default !== undefined) {
        expect(library, `${key} restates the library's default`).toBeUndefined()
      } else if (spec.unset === undefined && library !== undefined) {
        expect(defaultOf(key), key).toBe(spec.kind === 'secs' ? (library as number) / 1000 : library)
      }
    }
  })

  it('runs the server and the adapters with exactly the documented defaults', () => {
    const { config } = loadConfig({ argv: [], env: {}, cwd: tmpdir() })
    const options = mapped(config)
    const runtime: Record<string, unknown> = {
      ...options,
      server: { ...(options.server as object), ...resolveLimits(configToOptions(config)) },
      redis: { ...(options.redis as object), ...resolveRedisOptions(configToRedisOptions(config)).link },
    }
    for (const key of ALL_KEYS) {
      const spec = specOf(key)
      const value = defaultOf(key)
      const [root, ...path] = spec.to.split('.')
      const actual = at(runtime[root!], path.join('.'))
      if (value !== undefined) {
        expect(actual, key).toEqual(spec.kind === 'secs' ? (value as number) * 1000 : value)
      } else if (!documentedDefault(key).startsWith('none') && documentedDefault(key) !== 'any') {
        // Unset, and the server derives it: the documented value is what it derives when nothing is set.
        expect(String(actual), key).toBe(firstWord(documentedDefault(key)))
      } else if (root !== 'redis') {
        expect(actual, key).toBeUndefined()
      }
    }
  })

  it("documents each mapped option's @default as the key's default, in the option's units", () => {
    for (const key of ALL_KEYS) {
      const spec = specOf(key)
      const [root, ...path] = spec.to.split('.')
      const doc = OPTION_DOCS[root!]?.get(path.at(-1)!)
      const value = defaultOf(key)
      if (doc === undefined || spec.differs !== undefined) continue
      if (value === undefined) {
        if (spec.unset !== undefined && !spec.unset.startsWith('none') && spec.unset !== 'any') {
          expect(firstWord(doc), key).toBe(firstWord(spec.unset))
        }
        continue
      }
      const inOptionUnits = spec.kind === 'secs' ? (value as number) * 1000 : value
      expect(firstWord(doc), `${key} → ${spec.to}`).toBe(String(inOptionUnits))
    }
  })

  it("lists every key in the server README's table, in order, with its default, env name and flag", () => {
    const rows = source('../README.md')
      .split('\n')
      .map((line) => /^\| `([a-z_.]+)` +\| (.+?) +\| `(ROOMWIRE_\w+)` \/ `(--[a-z-]+)`/.exec(line))
      .filter((row) => row !== null)
    expect(rows.map((row) => row[1])).toEqual(ALL_KEYS)
    for (const [, key, documented, env, flag] of rows) {
      const k = key as ConfigKey
      expect([env, flag], key).toEqual([envName(k), flagName(k)])
      expect(firstWord(documented!), key).toBe(firstWord(documentedDefault(k)))
    }
  })
})
