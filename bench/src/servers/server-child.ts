import { readFileSync } from 'node:fs'
import { writeHeapSnapshot } from 'node:v8'
import { serveParent } from '../harness/child-process'
import type { BenchServer, Implementation } from './bench-server'
import { createRawWsServer } from './raw-ws-server'
import type { ServerSettings } from './server-settings'
import { createSocketIoServer } from './socketio-server'

const impl = process.argv[2] as Implementation
/** What the scenario changes in the server (compression, a Redis cluster), as JSON. */
const settings = JSON.parse(process.argv[3] ?? '{}') as ServerSettings

async function create(): Promise<BenchServer> {
  switch (impl) {
    case 'ws':
      return createRawWsServer(settings)
    case 'uws':
      return (await import('./uws-server')).createUwsServer(settings)
    case 'socketio':
      return createSocketIoServer()
    case 'roomwire':
    case 'roomwire-main':
    case 'roomwire-before': {
      // Loaded only here so the peers never pay for importing roomwire.
      const { createRoomwireBenchServer } = await import('./roomwire-server')
      const copies = {
        roomwire: undefined,
        'roomwire-main': process.env.BENCH_ROOMWIRE_MAIN,
        'roomwire-before': process.env.BENCH_ROOMWIRE_BEFORE,
      }
      return createRoomwireBenchServer(settings, copies[impl])
    }
    default:
      throw new Error(`unknown implementation '${impl}'`)
  }
}

const server = await create()

let snapshots = 0

/**
 * The main thread's own user CPU time in µs (Linux: /proc/self/task/<pid>/stat, in clock ticks of 10 ms),
 * beside `process.cpuUsage()`, which also counts V8's compiler and GC threads; NaN elsewhere.
 */
function mainThreadCpu(): { mainUser: number } {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Field 14 of stat(5) is utime; the slice starts at field 3.
    return { mainUser: Number(fields[11]) * 10_000 }
  } catch {
    return { mainUser: Number.NaN }
  }
}

function memory() {
  // Several passes: weak references and finalizers free more on the second.
  for (let i = 0; i < 3; i++) globalThis.gc?.()
  const m = process.memoryUsage()
  // `--heap-snapshot`: a snapshot beside every reading, to diff with bench/tools/heap-diff.mjs.
  const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR
  if (dir) writeHeapSnapshot(`${dir}/${impl}-${process.pid}-${++snapshots}.heapsnapshot`)
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    connections: server.connectionCount(),
  }
}

// A server under test: one process, pinned to its own core, driven over IPC by the harness.
serveParent(async (cmd, args) => {
  switch (cmd) {
    case 'listen':
      return server.listen((args as { port: number }).port)
    case 'memory':
      return memory()
    case 'cpu': {
      const u = process.cpuUsage()
      return { user: u.user, system: u.system, ...mainThreadCpu(), at: performance.now() }
    }
    case 'blast': {
      const { room, count } = args as { room: string; count: number }
      await server.blast(room, count)
      return null
    }
    case 'stop':
      await server.close()
      // Exit after the reply is on its way, so that --cpu-prof writes its profile.
      setTimeout(() => process.exit(0), 20)
      return null
    default:
      throw new Error(`unknown command '${cmd}'`)
  }
})
