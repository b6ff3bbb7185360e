import type { RoomAdapter } from './adapter'
import type { Clock } from './clock'
import type { Connection } from './connection'
import type { ConnectionRegistry } from './connection-registry'
import { RoomServerError } from './errors'
import type { HistoryStore } from './history-store'
import type { HttpListener } from './http-listener'
import type { InFlight } from './in-flight'
import type { RequestRunner } from './request-runner'
import type { Background } from './sessions'

/** What a shutdown stops, drains and releases, in this order. */
export interface ShutdownDeps {
  readonly clock: Clock
  /** The window the 1001 closes are spread over (`shutdownSpreadMs`). */
  readonly spreadMs: number
  /** Timers of the running server: the heartbeat and the zlib sweep. */
  stopTimers(): void
  readonly listener: HttpListener
  readonly publishes: InFlight
  readonly registry: ConnectionRegistry
  /** The requests being handled: a connection's close waits for their answers, up to the deadline. */
  readonly requests: Pick<RequestRunner<Connection>, 'owed' | 'answered' | 'closed'>
  readonly background: Background
  /** The adapter's attach; a shutdown waits for it before it closes the adapter. */
  readonly attached: Promise<unknown>
  readonly adapter: RoomAdapter
  /** Closed right after the adapter: it commits what is queued first. */
  readonly historyStore: HistoryStore | undefined
  readonly wss: { close(): void }
  /** Last: the metrics registry is cleared. */
  clearMetrics(): void
}

/** The 1001 close, with what is left of the deadline for its handshake. */
function closeOne(clock: Clock, connection: Connection, deadline: number): void {
  connection.close(1001, 'server shutting down', Math.max(1, deadline - clock.now()))
}

/**
 * Close a connection once it is owed no answer: the replies of its requests being handled are written
 * before its close frame (they need no new request, which is refused with `unavailable` by now).
 */
function closeWhenAnswered(deps: ShutdownDeps, connection: Connection, deadline: number): void {
  if (deps.requests.owed(connection) === 0) closeOne(deps.clock, connection, deadline)
  else void deps.requests.answered(connection).then(() => closeOne(deps.clock, connection, deadline))
}

/**
 * The deadline: handlers still running are told to stop (their signals fire, their answers are dropped)
 * and their connections closed, so the SDK fails them with `disconnected` or sends an idempotent one
 * again to the next server.
 */
function stopRequests(deps: ShutdownDeps, open: readonly Connection[], deadline: number): void {
  const reason = new RoomServerError('closed', 'the server is shutting down')
  for (const connection of open) {
    if (deps.requests.owed(connection) === 0) continue
    deps.requests.closed(connection, reason)
    closeOne(deps.clock, connection, deadline)
  }
}

/** Resolves on the next turn of the event loop (a macrotask, whatever clock is injected). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Stop accepting, let in-flight publishes be acked, tell every client, close them with 1001 spread over
 * a short window (so they do not all reconnect at once; each one once its requests being handled were
 * answered, up to the deadline, where their handlers are told to stop), wait for them (up to
 * `timeoutMs`), destroy the rest, wait for the adapter calls they caused, then close the adapter and the
 * HTTP side.
 */
export async function shutdown(deps: ShutdownDeps, timeoutMs: number): Promise<void> {
  const { clock, registry } = deps
  const deadline = clock.now() + timeoutMs
  deps.stopTimers()
  deps.listener.stopAccepting()
  // Publishes are refused from here on (the lifecycle says closing); those an asynchronous adapter still
  // works on are acked first, so that nothing is acked after the notice (PROTOCOL.md, `system`).
  if (deps.publishes.count > 0) await deps.publishes.idle(Math.max(0, deadline - clock.now()), clock)
  const open = [...registry.values()]
  for (const connection of open) {
    connection.send({ type: 'system', message: 'server shutting down', code: 'shutdown' })
  }
  const windowMs = Math.min(deps.spreadMs, timeoutMs / 2)
  const timers = open.map((connection, i) =>
    clock.setTimeout(
      () => closeWhenAnswered(deps, connection, deadline),
      open.length > 1 ? (i * windowMs) / (open.length - 1) : 0,
    ),
  )
  timers.push(clock.setTimeout(() => stopRequests(deps, open, deadline), Math.max(0, deadline - clock.now())))
  if (registry.size > 0) {
    let timer: unknown
    await Promise.race([
      registry.whenEmpty(),
      new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, timeoutMs)
      }),
    ])
    clock.clearTimeout(timer)
  }
  for (const timer of timers) clock.clearTimeout(timer)
  for (const connection of registry.values()) connection.terminate()
  // terminate() emits 'close' on a later tick; wait for the last cleanups to be queued and run.
  while (registry.size > 0) await nextTurn()
  await deps.background.settled()
  await deps.attached.catch(() => undefined)
  // Last, once nothing can be published or acknowledged any more: a memory adapter with `persist`
  // saves its rooms here, and a restart resumes from exactly what was acknowledged.
  try {
    await deps.adapter.close()
    await deps.historyStore?.close()
  } finally {
    deps.wss.close()
    await deps.listener.destroy()
    deps.clearMetrics()
  }
}
