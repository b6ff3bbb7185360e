import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { testEnv } from '../../../../scripts/test-env'
import { createRedisAdapter, type RedisAdapterOptions } from '../../src/redis/index'
import { startTestServer, type TestServer } from '../helpers'

/** The shared Redis every cluster test uses (the test run's global setup provides it). */
export const REDIS_URL = testEnv('RW_TEST_REDIS_URL')

/** A key prefix of its own for one test, so tests never see each other's rooms. */
export function uniquePrefix(): string {
  return `rwtest:${randomBytes(6).toString('hex')}:`
}

/** Delete every key under `prefix`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 })
  await redis.connect()
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    cursor = next
    if (found.length > 0) await redis.del(...found)
  } while (cursor !== '0')
  redis.disconnect()
}

/** A plain Redis client for a test to look at or break the store; `disconnect()` it when done. */
export async function redisClient(url = REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 })
  await redis.connect()
  return redis
}

/** Start an in-process server node with a Redis adapter (short heartbeat intervals for tests). */
export function startNode(
  prefix: string,
  adapter: RedisAdapterOptions = {},
  server: Parameters<typeof startTestServer>[0] = {},
): Promise<TestServer> {
  return startTestServer({
    ...server,
    adapter: createRedisAdapter({
      url: REDIS_URL,
      keyPrefix: prefix,
      nodeTtlMs: 1500,
      heartbeatIntervalMs: 300,
      reapIntervalMs: 300,
      ...adapter,
    }),
  })
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** A private redis-server child process a test may stop and start without disturbing the shared one. */
export interface PrivateRedis {
  readonly port: number
  readonly url: string
  /** Start it (again), on the same port, with no data. */
  start(): Promise<void>
  /** Kill it (SIGKILL: no goodbye to its clients). */
  stop(): Promise<void>
}

/** Create a private Redis on a free port (not started). */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  return {
    port,
    url,
    async start() {
      const proc = spawn(
        testEnv('RW_TEST_REDIS_SERVER'),
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      child = proc
      await new Promise<void>((resolve, reject) => {
        let out = ''
        const onData = (d: Buffer) => {
          out += d.toString()
          if (out.includes('Ready to accept connections')) {
            proc.stdout!.off('data', onData)
            resolve()
          }
        }
        proc.stdout!.on('data', onData)
        proc.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)))
      })
    },
    async stop() {
      const proc = child
      child = undefined
      if (proc === undefined || proc.exitCode !== null) return
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
    },
  }
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cli = join(packageDir, 'src', 'cli.ts')
const tsx = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href

/** A reference server process (`roomwire-server --redis-url ...`) running from source. */
export interface CliNode {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
  readonly exited: Promise<number | string | null>
  output(): string
}

/** Spawn the CLI with Redis on an ephemeral port and wait until it listens. */
export async function spawnCliNode(prefix: string, extra: string[] = []): Promise<CliNode> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@roomwire/source',
      '--import',
      tsx,
      cli,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--redis-url',
      REDIS_URL,
      '--redis-key-prefix',
      prefix,
      '--redis-node-ttl-secs',
      '1.5',
      '--log-level',
      'warn',
      '--rate-limit-messages-per-sec',
      '0',
      ...extra,
    ],
    { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  )
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(out)
      if (match) resolve(Number(match[1]))
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
  return { child, port, url: `ws://127.0.0.1:${port}/ws`, exited, output: () => out }
}
