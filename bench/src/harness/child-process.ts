import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRpc, type Rpc, type RpcHandler } from './rpc'

/** How child processes load code: from the TypeScript sources (no build) or from the built packages. */
export type CodeSource = 'source' | 'dist'

/** Options for one benchmark child process. */
export interface SpawnOptions {
  /** The child's entry point, a `.ts` file under bench/src. */
  entry: string
  /** Arguments after the entry point. */
  args?: string[]
  /** CPU core to pin the process to with `taskset`, when available. */
  core?: number
  /** `source` adds the `@roomwire/source` condition so workspace packages load from src/. */
  codeSource: CodeSource
  /** Extra Node flags, such as `--cpu-prof`. */
  nodeFlags?: string[]
  /** Answers requests the child makes of the parent. */
  handler?: RpcHandler
}

/** A running child with request/response over IPC. */
export interface BenchChild {
  readonly process: ChildProcess
  readonly rpc: Rpc
  /** Resolves once the child has set up its side of the IPC channel. */
  readonly ready: Promise<void>
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>
  /** Kill the process (SIGKILL unless given) and wait for it to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>
}

const live = new Set<ChildProcess>()
let hooked = false

function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

// No orphans: whatever way the parent ends, its children end with it.
function hookExit(): void {
  if (hooked) return
  hooked = true
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll()
      process.exit(130)
    })
  }
}

const hasTaskset = existsSync('/usr/bin/taskset')
// Resolved from this package, as a URL: `--import` would otherwise resolve it from the working directory.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** Spawn a benchmark child process: Node with tsx, pinned to a core, with IPC. */
export function spawnChild(options: SpawnOptions): BenchChild {
  hookExit()
  const node = [
    ...(options.codeSource === 'source' ? ['--conditions=@roomwire/source'] : []),
    '--import',
    tsxLoader,
    '--expose-gc',
    ...(options.nodeFlags ?? []),
    fileURLToPath(new URL(`../${options.entry}`, import.meta.url)),
    ...(options.args ?? []),
  ]
  const pin = hasTaskset && options.core !== undefined
  const child = pin
    ? spawn('taskset', ['-c', String(options.core), process.execPath, ...node], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : spawn(process.execPath, node, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  live.add(child)
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      resolve(code ?? signal ?? 'unknown')
    })
  })
  const rpc = createRpc(child, options.handler)
  child.once('exit', () => rpc.dispose())
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && (m as { rpc?: unknown }).rpc === 'ready') {
        child.off('message', onMessage)
        resolve()
      }
    }
    child.on('message', onMessage)
    void exited.then((code) => reject(new Error(`${options.entry} exited (${code}) before it was ready`)))
  })
  // A child that dies first makes `ready` reject; nobody may be waiting by then.
  ready.catch(() => {})
  return {
    process: child,
    rpc,
    ready,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

/** Reject after `ms` with a message naming what took too long; bounds every wait in the harness. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The child's side: answer the parent's requests with `handler`, tell it we are ready, and exit when the
 * parent goes away (so that a killed harness never leaves servers or load generators behind).
 */
export function serveParent(handler: RpcHandler): Rpc {
  if (!process.send) throw new Error('this file is a benchmark child process: run it through bench/run.mjs')
  const rpc = createRpc(process, handler)
  process.on('disconnect', () => process.exit(0))
  process.send({ rpc: 'ready' })
  return rpc
}
