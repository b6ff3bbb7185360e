import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Protocol } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { RoomAdapter } from './adapter'
import { cliLogger, listenFailure, listeningLines } from './cli-output'
import {
  configToCliSettings,
  configToHistorySettings,
  configToMemoryOptions,
  configToOptions,
  configToRedisOptions,
  loadConfig,
  type ServerConfig,
} from './config'
import { ALL_KEYS, documentedDefault, envName, flagName, specOf } from './config-keys'
import type { CliSettings, Kind } from './config-spec'
import { isRoomServerError, RoomServerError } from './errors'
import type { HistoryStore } from './history-store'
import { createMemoryAdapter } from './memory-adapter'
import { createPostgresHistory } from './postgres/postgres-history'
import { createRedisAdapter } from './redis/redis-adapter'
import type { RequestHandlers } from './request-types'
import { createRoomServer, type RoomServer } from './room-server'

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

/** What `--help` shows after a flag for each kind of value; a bool flag alone means true. */
const PLACEHOLDER: Record<Kind, string> = {
  port: '<port>',
  int: '<n>',
  posint: '<n>',
  number: '<n>',
  secs: '<seconds>',
  bool: '[true|false]',
  string: '<text>',
  list: '<a,b,...>',
  url: '<url>',
  level: '<level>',
  dir: '<dir>',
  file: '<file>',
  path: '<path>',
}

/** One line of `--help`: the flag with its value, then what it does, in one column for every flag. */
function helpRow(flag: string, text: string): string {
  return `  ${flag.padEnd(44)} ${text}`
}

function help(): string {
  const rows = ALL_KEYS.map(
    (key) =>
      `${helpRow(`${flagName(key)} ${PLACEHOLDER[specOf(key).kind]}`, `${specOf(key).doc} (default ${documentedDefault(key)})`)}\n` +
      helpRow('', `file key ${key}, env ${envName(key)}`),
  )
  return `roomwire-server ${version()}: the roomwire reference room server

Usage: roomwire-server [--config file] [--port n] [--host h] [--flag value ...]

Configuration comes from defaults < the JSON file (--config, else ./roomwire.config.json) <
ROOMWIRE_* environment variables < flags. Durations are seconds (fractions allowed).

${helpRow('--config <file>', 'JSON configuration file (env ROOMWIRE_CONFIG)')}
${helpRow('--help', 'print this help')}
${helpRow('--version', 'print the version')}
${rows.join('\n')}
`
}

/**
 * The adapter for a configuration: the in-memory default (with its `memory.*` bounds and `state_file`),
 * or the Redis cluster adapter when `redis_url` is set (several processes sharing one Redis act as one
 * server).
 */
function adapterFor(config: ServerConfig, logger: Logger): RoomAdapter {
  if (config.redis_url === undefined) return createMemoryAdapter(configToMemoryOptions(config))
  return createRedisAdapter({ ...configToRedisOptions(config), logger: logger.child({ component: 'redis' }) })
}

/** The durable history store when `history.postgres_url` is set (its table is made on first use). */
function historyStoreFor(config: ServerConfig): HistoryStore | undefined {
  const { postgresUrl, retentionDays } = configToHistorySettings(config)
  if (postgresUrl === undefined) return undefined
  const maxAgeMs = Math.round(retentionDays * 86_400_000)
  return createPostgresHistory({ connectionString: postgresUrl, retention: { maxAgeMs } })
}

function isProtocol(value: unknown): value is Protocol {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Protocol).validateEvent === 'function' &&
    typeof (value as Protocol).validatePresence === 'function' &&
    typeof (value as Protocol).validateDirect === 'function'
  )
}

/** Errors Node gives for a TypeScript module it cannot run by itself (Node 20 has no type stripping). */
const NO_TYPESCRIPT = new Set([
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX',
  'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING',
])

/** How to run the server with a TypeScript protocol module, when Node could not load one. */
function loaderHint(file: string, err: unknown): string {
  if (!/\.[mc]?ts$/.test(file) || !NO_TYPESCRIPT.has((err as { code?: string }).code ?? '')) return ''
  return (
    '. Node cannot run this TypeScript file by itself: run the server with a TypeScript loader, such as' +
    ` tsx (npm install -D tsx), as \`node --import tsx node_modules/@roomwire/server/bin/roomwire-server.js --protocol ${file}\`` +
    ` or \`NODE_OPTIONS="--import tsx" npx @roomwire/server --protocol ${file}\`, or point --protocol at the compiled .js`
  )
}

/** Import the module a configuration key names; a failure names the key and the file. */
async function importModule(key: string, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (err) {
    throw new RoomServerError(
      'invalid_config',
      `${key}: cannot load ${file}: ${(err as Error).message}${loaderHint(file, err)}`,
    )
  }
}

/**
 * The application protocol from the module named by the `protocol` key: its default export, or its one
 * named export that is a `defineProtocol()` result. The same module the app's client imports, so the
 * reference server validates exactly what the UI is typed with.
 */
async function loadProtocol(file: string): Promise<Protocol> {
  const module = await importModule('protocol', file)
  if (isProtocol(module.default)) return module.default
  const found = Object.values(module).filter(isProtocol)
  if (found.length === 1) return found[0] as Protocol
  throw new RoomServerError(
    'invalid_config',
    found.length === 0
      ? `protocol: ${file} exports no defineProtocol() result`
      : `protocol: ${file} exports ${found.length} protocols; export the one to use as default`,
  )
}

/** Whether `value` is an object of request handlers (functions by request name). */
function isHandlers(value: unknown): value is RequestHandlers {
  return (
    typeof value === 'object' &&
    value !== null &&
    !isProtocol(value) &&
    Object.values(value).every((handler) => typeof handler === 'function')
  )
}

/**
 * The request handlers: from the module named by the `handlers` key (its `handlers` export, else its
 * default export), else the protocol module's `handlers` export, loaded like the protocol itself.
 */
async function loadHandlers(settings: CliSettings): Promise<RequestHandlers | undefined> {
  const file = settings.handlers
  if (file === undefined) {
    if (settings.protocol === undefined) return undefined
    const beside = (await importModule('protocol', settings.protocol)).handlers
    return isHandlers(beside) ? beside : undefined
  }
  const module = await importModule('handlers', file)
  const found = [module.handlers, module.default].find(isHandlers)
  if (found !== undefined) return found
  throw new RoomServerError(
    'invalid_config',
    `handlers: ${file} exports no request handlers; export them as \`handlers\` (an object of functions by request name)`,
  )
}

/** Exit code for a bug that escaped (EX_SOFTWARE from sysexits.h), apart from 1 (could not start). */
const EXIT_BUG = 70

/**
 * What the reference server does with an exception nothing caught. The library installs no process-wide
 * handler (an embedding app owns its process), and nothing a peer sends can get here: every frame, close
 * and upgrade runs inside a guard that answers `internal` and goes on (issue 12). What does get here is a
 * bug outside any connection's frame path (a timer, an adapter's own event), after which the process
 * state is unknown: going on could serve wrong data, and a graceful `close()` would send `shutdown`, whose
 * promise (nothing acknowledged was lost) the server can no longer keep. So it logs the error at `fatal`
 * (pino writes synchronously) and exits with 70 for the supervisor to restart it; clients see 1006 and
 * resume with `since`.
 */
function exitOnBug(logger: Logger): void {
  const fatal = (kind: string) => (err: unknown) => {
    try {
      logger.fatal({ err, kind }, 'a bug escaped: exiting')
    } finally {
      process.exit(EXIT_BUG)
    }
  }
  process.on('uncaughtException', fatal('uncaughtException'))
  process.on('unhandledRejection', fatal('unhandledRejection'))
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help())
    return 0
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  let config: ServerConfig
  let protocol: Protocol | undefined
  let handlers: RequestHandlers | undefined
  try {
    config = loadConfig({ argv }).config
    const settings = configToCliSettings(config)
    if (settings.protocol !== undefined) protocol = await loadProtocol(settings.protocol)
    handlers = await loadHandlers(settings)
    const requests = protocol?.requests === undefined ? [] : Object.keys(protocol.requests)
    if (handlers === undefined && requests.length > 0) {
      throw new RoomServerError(
        'invalid_config',
        `protocol: ${settings.protocol} declares requests (${requests.join(', ')}) but no handlers were found: ` +
          'export `handlers` beside the protocol, or name their module with --handlers',
      )
    }
  } catch (err) {
    if (isRoomServerError(err)) {
      process.stderr.write(`roomwire-server: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const options = configToOptions(config)
  // Redacts tokens and Authorization headers like an embedded server's logger (REDACT, logger.ts).
  const logger = await cliLogger(options.logLevel ?? 'info')
  exitOnBug(logger)
  let server: RoomServer
  const historyStore = historyStoreFor(config)
  try {
    // The memory adapter restores its state file here, before the server listens.
    server = createRoomServer({
      ...options,
      logger,
      adapter: adapterFor(config, logger),
      ...(historyStore === undefined ? {} : { historyStore }),
      ...(protocol === undefined ? {} : { protocol }),
      ...(handlers === undefined ? {} : { handlers }),
    })
  } catch (err) {
    if (isRoomServerError(err)) {
      process.stderr.write(`roomwire-server: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const timeoutMs = configToCliSettings(config).shutdownTimeoutMs
  // Signal handlers go in before the server listens, so a signal at any moment shuts down gracefully.
  let stopped: (code: number) => void = () => {}
  const exit = new Promise<number>((resolve) => {
    stopped = resolve
  })
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now". A second SIGTERM does not: supervisors and wrapper scripts send it to a
      // process group and forward it too, so one stop arrives twice, and cutting the shutdown short there
      // lost the state file it was writing. The shutdown's own deadline bounds the wait; SIGKILL is "now".
      if (signal === 'SIGINT') stopped(1)
      else logger.info({ signal }, 'already shutting down')
      return
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    server.close({ timeoutMs }).then(
      () => stopped(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        stopped(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  try {
    await server.ready
  } catch (err) {
    process.stderr.write(
      isRoomServerError(err)
        ? `roomwire-server: ${err.message}\n`
        : listenFailure(options.host, options.port, err as NodeJS.ErrnoException),
    )
    await server.close({ timeoutMs: 0 })
    return isRoomServerError(err) ? 2 : 1
  }
  if (!stopping) {
    const address = server.address()!
    process.stdout.write(listeningLines(version(), options, address))
    // A log collector gets the event too; in a terminal the lines above say it.
    if (process.stdout.isTTY !== true) {
      logger.info({ port: address.port, host: options.host, path: options.path }, 'listening')
    }
  }
  return exit
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `roomwire-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    process.exit(1)
  },
)
