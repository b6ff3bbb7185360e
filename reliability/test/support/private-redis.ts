import { type ChildProcess, spawn } from 'node:child_process'
import { freePort } from './server-node'

/**
 * A redis-server child of its own on a free loopback port, for tests that stop, restart or empty Redis
 * without disturbing the shared one at 127.0.0.1:6379. Nothing is saved: every start is empty.
 */
export interface PrivateRedis {
  readonly port: number
  readonly url: string
  readonly up: boolean
  /** Start it (again) on the same port, with no data. */
  start(): Promise<void>
  /** Kill it (SIGKILL: no goodbye to its clients) and wait for the exit. */
  stop(): Promise<void>
}

/** Create a private Redis on a free port and start it. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get up() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
    },
    async start() {
      if (redis.up) throw new Error(`redis on ${port} is already up`)
      const proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      )
      child = proc
      await new Promise<void>((resolve, reject) => {
        let out = ''
        const onData = (d: Buffer) => {
          out += d.toString()
          if (out.includes('Ready to accept connections')) {
            proc.stdout!.off('data', onData)
            proc.off('exit', onExit)
            proc.stdout!.resume()
            resolve()
          }
        }
        const onExit = (code: number | null) => reject(new Error(`redis-server exited ${code}: ${out}`))
        proc.stdout!.on('data', onData)
        proc.once('exit', onExit)
      })
    },
    async stop() {
      const proc = child
      child = undefined
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
    },
  }
  await redis.start()
  return redis
}
