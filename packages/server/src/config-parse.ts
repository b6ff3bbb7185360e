import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { type ConfigKey, isKey, keyOfFlag, specOf } from './config-keys'
import { type Kind, LEVELS } from './config-spec'
import { RoomServerError } from './errors'

/** One configuration value. */
export type ConfigValue = string | number | boolean | string[]

/** What each kind accepts, as an error states it. */
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

/** A value read by kind, or what it should have been when it is wrong. */
type Read = { ok: true; value: ConfigValue } | { ok: false; expected?: string }

const wrong: Read = { ok: false }
const ok = (value: ConfigValue): Read => ({ ok: true, value })

function readNumber(kind: Kind, raw: unknown, fromText: boolean): Read {
  const value = fromText && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw
  if (typeof value !== 'number' || !Number.isFinite(value)) return wrong
  if (kind !== 'number' && kind !== 'secs' && !Number.isSafeInteger(value)) return wrong
  if (value < 0 || ((kind === 'posint' || kind === 'secs') && value === 0)) return wrong
  if (kind === 'port' && value > 65_535) return wrong
  return ok(value)
}

function readBool(raw: unknown, fromText: boolean): Read {
  if (typeof raw === 'boolean') return ok(raw)
  if (!fromText || typeof raw !== 'string') return wrong
  const lower = raw.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(lower)) return ok(true)
  if (['false', '0', 'no', 'off'].includes(lower)) return ok(false)
  return wrong
}

function readUrl(raw: unknown, schemes: readonly string[] | undefined): Read {
  if (typeof raw !== 'string') return wrong
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return wrong
  }
  if (schemes !== undefined && !schemes.includes(url.protocol)) {
    return { ok: false, expected: `a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` }
  }
  return ok(raw)
}

/** A `file`, `path` or `dir` value, resolved from `cwd`; it must exist as that (a `path`'s folder must). */
function readPath(kind: 'file' | 'path' | 'dir', raw: unknown, cwd: string): Read {
  if (typeof raw !== 'string' || raw === '') return wrong
  const full = resolve(cwd, raw)
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory()
  if (kind === 'dir') return isDir(full) ? ok(full) : wrong
  if (kind === 'file') return existsSync(full) && statSync(full).isFile() ? ok(full) : wrong
  return isDir(dirname(full)) && !isDir(full) ? ok(full) : wrong
}

function readList(raw: unknown, fromText: boolean): Read {
  const value =
    fromText && typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : raw
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s !== '')) return wrong
  return ok(value as string[])
}

function readKind(key: ConfigKey, raw: unknown, fromText: boolean, cwd: string): Read {
  const spec = specOf(key)
  switch (spec.kind) {
    case 'port':
    case 'int':
    case 'posint':
    case 'number':
    case 'secs':
      return readNumber(spec.kind, raw, fromText)
    case 'bool':
      return readBool(raw, fromText)
    case 'string':
      return typeof raw === 'string' && raw !== '' ? ok(raw) : wrong
    case 'level':
      return typeof raw === 'string' && (LEVELS as readonly string[]).includes(raw) ? ok(raw) : wrong
    case 'url':
      return readUrl(raw, spec.schemes)
    case 'file':
    case 'path':
    case 'dir':
      return readPath(spec.kind, raw, cwd)
    case 'list':
      return readList(raw, fromText)
  }
}

/**
 * Parse and check one value of `key` from `source`; strings from the environment or flags (`fromText`)
 * are converted by kind, paths resolved from `cwd`. Throws `RoomServerError('invalid_config')` naming the
 * key, its source, the value and what was expected.
 */
export function parseValue(
  key: ConfigKey,
  raw: unknown,
  source: string,
  fromText: boolean,
  cwd: string,
): ConfigValue {
  const spec = specOf(key)
  const read = readKind(key, raw, fromText, cwd)
  const expected = read.ok ? spec.check?.(read.value as never) : (read.expected ?? EXPECTED[spec.kind])
  if (read.ok && expected === undefined) return read.value
  throw new RoomServerError(
    'invalid_config',
    `Invalid configuration: ${key} (from ${source}) is ${JSON.stringify(raw)}; expected ${expected}`,
  )
}

/** Flatten `{ rooms: { max_members: 5 } }` to `rooms.max_members`; dotted keys are taken as they are. */
export function flatten(
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

/** Split argv into `--flag value` pairs; `--flag=value` and bare boolean flags work too. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>()
  /** Flags given with no value: only a bool may be (`--auth-required`, read as true). */
  const bare = new Set<string>()
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
    if (next === undefined || next.startsWith('--')) {
      flags.set(arg, 'true')
      bare.add(arg)
    } else {
      flags.set(arg, next)
      i++
    }
  }
  for (const flag of bare) {
    const key = keyOfFlag(flag)
    if (flag === '--config' || (key !== undefined && specOf(key).kind !== 'bool')) {
      throw new RoomServerError('invalid_config', `${flag} needs a value; see --help`)
    }
  }
  return flags
}

/** The keys and values of a JSON configuration file, flattened; throws `invalid_config` naming the file. */
export function readConfigFile(file: string): Map<string, unknown> {
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
  return flatten(json as Record<string, unknown>)
}
