import pino, { type Logger } from 'pino'

/**
 * The logger a server uses: the given one, or a new pino logger at `level` (silent by default, so a library
 * embedded in an app or a test prints nothing unless asked). Authorization headers and tokens are redacted
 * should a caller log them.
 */
export function createLogger(logger: Logger | undefined, level: string | undefined): Logger {
  if (logger !== undefined) return logger
  return pino({ name: 'roomwire', level: level ?? 'silent', redact: REDACT })
}

/** What the server's loggers never print: authorization headers and tokens, should a caller log them. */
export const REDACT = {
  paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token'],
  censor: '[redacted]',
}
