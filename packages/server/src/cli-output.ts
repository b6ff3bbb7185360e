import type { AddressInfo } from 'node:net'
import pino, { type Logger, type LoggerOptions } from 'pino'
import { REDACT } from './logger'

/**
 * The reference server's logger. Piped or collected, pino's JSON lines, one per event; in a terminal the
 * same events as readable lines through pino-pretty (issue #16), loaded only then.
 */
export async function cliLogger(level: string): Promise<Logger> {
  const options: LoggerOptions = {
    name: 'roomwire',
    level,
    redact: REDACT,
    hooks: {
      // A failed listen is the CLI's to report, in one line that says what to do (listenFailure).
      logMethod(args, method) {
        const err = (args[0] as { err?: NodeJS.ErrnoException } | undefined)?.err
        if (err?.syscall !== 'listen') method.apply(this, args)
      },
    },
  }
  if (process.stdout.isTTY !== true) return pino(options)
  const { default: pretty } = await import('pino-pretty')
  return pino(
    options,
    pretty({
      colorize: true,
      singleLine: true,
      ignore: 'pid,hostname,name',
      translateTime: 'SYS:HH:MM:ss',
      sync: true,
    }),
  )
}

/** Where the server listens, as a person types it: `localhost` for every interface, IPv6 in brackets. */
function hostPort(host: string, address: AddressInfo): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host
  return `${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`
}

/**
 * The first lines once the server is up: the page to open when it serves one, then the WebSocket URL (tests
 * and scripts read the port from "listening on ws://…").
 */
export function listeningLines(
  version: string,
  options: { host: string; path?: string | undefined; staticDir?: string | undefined },
  address: AddressInfo,
): string {
  const base = hostPort(options.host, address)
  const path = options.path ?? '/ws'
  const page = options.staticDir === undefined ? '' : `Open http://${base}/ (serving ${options.staticDir})\n`
  return `${page}roomwire-server ${version} listening on ws://${base}${path} · health http://${base}/health\n`
}

/** One line for a failed listen that says what to do: a busy port names itself and how to choose another. */
export function listenFailure(host: string, port: number, err: NodeJS.ErrnoException): string {
  const choose = 'choose another with --port <n>'
  if (err.code === 'EADDRINUSE') {
    return `roomwire-server: port ${port} is already in use on ${host} (another program listens there); ${choose}\n`
  }
  if (err.code === 'EACCES') {
    return `roomwire-server: not allowed to listen on port ${port} (ports below 1024 need privileges); ${choose}\n`
  }
  return `roomwire-server: cannot listen on ${host}:${port}: ${err.message}\n`
}
