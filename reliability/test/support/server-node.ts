import { createServer } from 'node:net'
import {
  type ChildServer,
  type ChildServerOptions,
  type ServerExit,
  type ServerRoom,
  startChildServer,
} from './child-server'

/** A free TCP port on 127.0.0.1 (the kernel's pick, released at once). */
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

/**
 * A server node that can die and come back on the same port, as a process under a supervisor does: each
 * life is a new child process (fixtures/server-process.ts), so a restart loses everything the process
 * held in memory. What every life wrote to stderr is kept, so a test can require it to stay clean.
 */
export interface ServerNode {
  readonly port: number
  readonly url: string
  readonly httpUrl: string
  /** Whether a life is running (a paused one included). */
  readonly up: boolean
  /** Whether the running life is frozen by {@link pause}. */
  readonly paused: boolean
  /** Lives started so far. */
  readonly lives: number
  /** Start a new life on the port (the node must be down). */
  start(): Promise<void>
  /**
   * End the current life with `signal` and wait for the exit: SIGTERM shuts down as the CLI does
   * (shutdown notice, 1001 closes, drain), SIGKILL is a crash (no close frames, no cleanup in Redis).
   */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<ServerExit | undefined>
  /** SIGSTOP: the process freezes with its sockets open. */
  pause(): Promise<void>
  /** SIGCONT. */
  resume(): Promise<void>
  room(name: string): Promise<ServerRoom>
  /** GET /health of the current life. */
  health(): Promise<{ status: string; reason?: string }>
  /** Uncaught exceptions and unhandled rejections, over every life. */
  crashes(): string[]
  /** Everything written to stderr, over every life. */
  stderr(): string
  /** Stop for good (SIGKILL if it will not close). */
  close(): Promise<void>
}

/** Start a node on a free port, or on `options.port`. */
export async function startServerNode(options: ChildServerOptions = {}): Promise<ServerNode> {
  const port = options.port ?? (await freePort())
  let life: ChildServer | undefined
  let lives = 0
  let paused = false
  const crashes: string[] = []
  const stderrOfDeadLives: string[] = []

  const reap = (dead: ChildServer) => {
    if (dead.exit?.crash !== undefined) crashes.push(dead.exit.crash)
    stderrOfDeadLives.push(dead.stderr())
    if (life === dead) life = undefined
  }

  const node: ServerNode = {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    get up() {
      return life !== undefined && life.exit === undefined
    },
    get paused() {
      return paused && node.up
    },
    get lives() {
      return lives
    },
    async start() {
      if (node.up) throw new Error(`node on ${port} is already up`)
      const started = await startChildServer({ ...options, port })
      lives++
      paused = false
      life = started
      void started.exited.then(() => reap(started))
    },
    async stop(signal) {
      const current = life
      if (current === undefined) return undefined
      // A frozen process cannot handle SIGTERM: let it run again first.
      current.process.kill('SIGCONT')
      paused = false
      const exit = await current.signal(signal)
      reap(current)
      return exit
    },
    async pause() {
      paused = true
      await life?.signal('SIGSTOP')
    },
    async resume() {
      paused = false
      await life?.signal('SIGCONT')
    },
    async room(name) {
      if (life === undefined) throw new Error(`node on ${port} is down`)
      return life.room(name)
    },
    async health() {
      const response = await fetch(`${node.httpUrl}/health`)
      return (await response.json()) as { status: string; reason?: string }
    },
    crashes: () => [...crashes, ...(life?.exit?.crash === undefined ? [] : [life.exit.crash])],
    stderr: () => [...stderrOfDeadLives, life?.stderr() ?? ''].join(''),
    async close() {
      const current = life
      if (current === undefined) return
      current.process.kill('SIGCONT')
      await current.close()
      reap(current)
    },
  }
  await node.start()
  return node
}
