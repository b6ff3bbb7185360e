import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RoomServerOptions } from '@roomwire/server'

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

/** A room server in a child process (see fixtures/server-process.ts). */
export interface ChildServer {
  readonly port: number
  readonly url: string
  readonly process: ChildProcess
  /** Set when it exited (a crash is an uncaught exception or unhandled rejection in the server). */
  readonly exit: { code: number | null; crash: string | undefined } | undefined
  memory(): Promise<ServerMemory>
  /** A room's member count and seq, as the server sees them. */
  room(name: string): Promise<{ memberCount: number; seq: number }>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export interface ChildServerOptions
  extends Omit<RoomServerOptions, 'port' | 'server' | 'noServer' | 'logger'> {
  headersTimeoutMs?: number
  connectionsCheckingIntervalMs?: number
}

/** Start a server process with --expose-gc on a free loopback port. */
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
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  let exit: ChildServer['exit']
  let crash: string | undefined
  let nextId = 0
  const replies = new Map<number, (reply: never) => void>()
  const ask = <T>(message: Record<string, unknown>): Promise<T> => {
    const id = nextId++
    return new Promise((res, rej) => {
      if (exit !== undefined) {
        rej(new Error(`server process exited (${exit.code}): ${exit.crash ?? stderr}`))
        return
      }
      replies.set(id, (reply: T) => {
        replies.delete(id)
        res(reply)
      })
      child.send({ ...message, id })
    })
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exit = { code, crash }
      resolve()
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
          child.send({ cmd: 'close' })
          const force = setTimeout(() => child.kill('SIGKILL'), 5000)
          await exited
          clearTimeout(force)
        }
        resolve({
          port,
          url: `ws://127.0.0.1:${port}/ws`,
          process: child,
          get exit() {
            return exit
          },
          memory: () => ask<ServerMemory>({ cmd: 'mem' }),
          room: (name) => ask<{ memberCount: number; seq: number }>({ cmd: 'room', room: name }),
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
