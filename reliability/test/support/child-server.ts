import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RoomServerOptions } from '@roomwire/server'
import type { RedisAdapterOptions } from '@roomwire/server/redis'

const fixture = fileURLToPath(new URL('../fixtures/server-process.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('../..', import.meta.url))

/** Memory of the server process after two full GCs. */
export interface ServerMemory {
  heapUsed: number
  rss: number
  external: number
  arrayBuffers: number
  connections: number
}

/** A room as the server process sees it (`epoch` null when it holds no state for it). */
export interface ServerRoom {
  memberCount: number
  seq: number
  epoch: string | null
  members: string[]
}

/** How a server process ended. */
export interface ServerExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when it died of an uncaught exception or unhandled rejection. */
  crash: string | undefined
}

/** A room server in a child process (see fixtures/server-process.ts). */
export interface ChildServer {
  readonly port: number
  readonly url: string
  readonly httpUrl: string
  readonly process: ChildProcess
  /** Set when it exited. */
  readonly exit: ServerExit | undefined
  /** Resolves when it exited. */
  readonly exited: Promise<ServerExit>
  /** Everything it wrote to stderr (the last 64 KiB). */
  stderr(): string
  memory(): Promise<ServerMemory>
  /** A room's members and seq, as the server sees them. */
  room(name: string): Promise<ServerRoom>
  /** Send a signal and, unless it is SIGSTOP or SIGCONT, wait for the exit. */
  signal(signal: NodeJS.Signals): Promise<ServerExit | undefined>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export interface ChildServerOptions
  extends Omit<RoomServerOptions, 'port' | 'server' | 'noServer' | 'logger' | 'adapter'> {
  /** Listen on this port. @default 0 (a free one) */
  port?: number
  headersTimeoutMs?: number
  connectionsCheckingIntervalMs?: number
  /** Use the Redis adapter with these options. */
  redis?: RedisAdapterOptions
  /** Log server errors to stderr. */
  logErrors?: boolean
  /** How long close() may take on SIGTERM. */
  shutdownTimeoutMs?: number
  /** Validate with the fuzz tests' `chat` protocol (fixtures/server-process.ts). */
  chatProtocol?: boolean
  /** Memory adapter only: keep its rooms in this file across a graceful restart (`state_file`). */
  stateFile?: string
}

const STDERR_KEEP = 65_536

/** Start a server process with --expose-gc on a loopback port. */
export function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--conditions=@roomwire/source', '--import', 'tsx', fixture],
    {
      cwd: packageDir,
      env: { ...process.env, ROOMWIRE_TEST_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP)
  })
  let exit: ServerExit | undefined
  let crash: string | undefined
  let nextId = 0
  const replies = new Map<number, (reply: never) => void>()
  const ask = <T>(message: Record<string, unknown>): Promise<T> => {
    const id = nextId++
    return new Promise((res, rej) => {
      if (exit !== undefined || !child.connected) {
        rej(new Error(`server process exited (${exit?.code}): ${exit?.crash ?? stderr}`))
        return
      }
      replies.set(id, (reply: T) => {
        replies.delete(id)
        res(reply)
      })
      child.send({ ...message, id })
    })
  }
  const exited = new Promise<ServerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, crash }
      for (const [id, reply] of replies) {
        replies.delete(id)
        ;(reply as (r: unknown) => void)({ error: 'exited' })
      }
      resolve(exit)
    })
  })
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server process did not start: ${stderr}`))
    }, 20_000)
    child.on(
      'message',
      (message: { type: string; port?: number; id?: number; error?: string } & ServerMemory) => {
        if (message.type === 'crash') crash = message.error
        if (message.id !== undefined) replies.get(message.id)?.(message as never)
        if (message.type !== 'ready') return
        clearTimeout(killer)
        const port = message.port!
        const close = async () => {
          if (exit !== undefined) return
          if (child.connected) child.send({ cmd: 'close' })
          const force = setTimeout(() => child.kill('SIGKILL'), 5000)
          await exited
          clearTimeout(force)
        }
        resolve({
          port,
          url: `ws://127.0.0.1:${port}/ws`,
          httpUrl: `http://127.0.0.1:${port}`,
          process: child,
          get exit() {
            return exit
          },
          exited,
          stderr: () => stderr,
          memory: () => ask<ServerMemory>({ cmd: 'mem' }),
          room: (name) => ask<ServerRoom>({ cmd: 'room', room: name }),
          async signal(signal) {
            if (exit !== undefined) return exit
            child.kill(signal)
            if (signal === 'SIGSTOP' || signal === 'SIGCONT') return undefined
            return exited
          },
          close,
          [Symbol.asyncDispose]: close,
        })
      },
    )
    child.once('exit', (code) => {
      clearTimeout(killer)
      reject(new Error(`server process exited with ${code} before it was ready: ${crash ?? stderr}`))
    })
  })
}
