import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import {
  createMemoryAdapter,
  createRoomServer,
  type HistoryStore,
  type RoomAdapter,
  type RoomServer,
  type RoomServerOptions,
} from '@roomwire/server'
import { type CutProxy, closePhasePassed } from './cut-proxy'
import { RoomwireTestError } from './errors'
import { Identities } from './identities'
import { keptState } from './kept-state'
import { type ConnectOptions, makeTestClient, type TestClient } from './test-client'

/**
 * Options of {@link createTestServer}: every `createRoomServer` option but the hosting ones (it
 * listens on 127.0.0.1 itself), with `protocol` typing the clients.
 */
export type TestServerOptions<P extends Protocol = UntypedProtocol> = Omit<
  RoomServerOptions<P>,
  'server' | 'noServer' | 'host' | 'adapter' | 'historyStore'
> & {
  /**
   * Storage and fan-out. A function is called for every start, so `restart()` gets a fresh adapter
   * (a Redis adapter, say: its rooms outlive the restart in Redis). An adapter object works until a
   * restart, which needs a new one. Without it: a memory adapter whose rooms `restart({ keepState })`
   * keeps or loses.
   */
  adapter?: RoomAdapter | (() => RoomAdapter)
  /**
   * A durable history store (`createPostgresHistory`), or a function that makes one. The server closes
   * its store when it closes, so `restart()` needs the function: each start gets a store of its own over
   * the same table, and clients resume from what it committed. With a store the kit's memory adapter
   * keeps no state of its own (the store is where rooms live), so `keepState` does not apply.
   */
  historyStore?: HistoryStore | (() => HistoryStore)
}

/** Options of `restart()`. */
export interface RestartOptions {
  /**
   * Keep every room's epoch, seq and history across the restart, as a graceful restart with a state
   * file does (clients resume with `since`, no `resync`); `false` starts every room in a new epoch, as
   * a restart without one does (clients get `resync`, reason `epoch`). Only for the kit's memory
   * adapter: with `adapter`, the adapter decides (Redis keeps everything).
   * @default false
   */
  keepState?: boolean
}

/** A roomwire server for one test, on 127.0.0.1 and a port of its own. */
export interface TestServer<P extends Protocol = UntypedProtocol> {
  /** The server now (a new one after each `restart()`): `broadcast`, `roomInfo`, `connections()`, … */
  readonly rooms: RoomServer<P>
  readonly port: number
  /** `ws://127.0.0.1:port/ws`, for clients of your own (a browser, say). */
  readonly url: string
  /** `http://127.0.0.1:port`, for `/health` and the admin API. */
  readonly httpUrl: string
  /** A real client authenticated as `user` with `data`, through a TCP path of its own (for `cut`). */
  connect(options?: ConnectOptions<P>): Promise<TestClient<P>>
  /**
   * Drop the client's TCP connection with no close frame, as a network does: the client sees 1006 and
   * reconnects (fast), the server sees a dead socket. Resolves once the client noticed.
   */
  cut(client: TestClient<P>): Promise<void>
  /** Close gracefully (clients see 1001 and reconnect) and listen again on the same port. */
  restart(options?: RestartOptions): Promise<void>
  /** Close every client, then the server; leaves no timer or socket behind. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** How long a close waits for connections before it destroys them. */
const CLOSE_TIMEOUT_MS = 1000

/**
 * Start a server for one test; close it with `await using` (or `close()`).
 * @example
 * await using server = await createTestServer({ protocol: chat })
 * await using alice = await server.connect({ user: 'alice' })
 */
export async function createTestServer<P extends Protocol = UntypedProtocol>(
  options: TestServerOptions<P> = {},
): Promise<TestServer<P>> {
  const identities = new Identities()
  const kept = keptState()
  const { adapter, historyStore, ...rest } = options
  const path = options.path ?? '/ws'
  const newAdapter = (): RoomAdapter => {
    // The memory adapter takes a history store or persisted state, not both.
    if (adapter === undefined) return createMemoryAdapter(historyStore === undefined ? { persist: kept } : {})
    return typeof adapter === 'function' ? adapter() : adapter
  }
  const newStore = (): HistoryStore | undefined =>
    typeof historyStore === 'function' ? historyStore() : historyStore
  const start = async (port: number): Promise<RoomServer<P>> => {
    const server = createRoomServer<P>({
      // The closes of a test's shutdown need not be spread over a second.
      shutdownSpreadMs: 0,
      ...rest,
      port,
      host: '127.0.0.1',
      adapter: newAdapter(),
      historyStore: newStore(),
      authenticate: identities.authenticate(options),
    } as RoomServerOptions<P>)
    await server.ready
    return server
  }
  let rooms = await start(options.port ?? 0)
  const address = rooms.address()
  if (address === null) throw new RoomwireTestError('misuse', 'the server is not listening after ready')
  const port = address.port
  const clients = new Map<TestClient<P>, { proxy: CutProxy; dispose: () => Promise<void> }>()
  let anonymous = 0
  let closing: Promise<void> | undefined

  const close = () => {
    closing ??= (async () => {
      await Promise.all([...clients.values()].map((c) => c.dispose()))
      clients.clear()
      await rooms.close({ timeoutMs: CLOSE_TIMEOUT_MS })
      await closePhasePassed()
    })()
    return closing
  }
  const known = (client: TestClient<P>) => {
    const entry = clients.get(client)
    if (entry === undefined)
      throw new RoomwireTestError('misuse', 'cut() got a client of another test server')
    return entry
  }

  return {
    get rooms() {
      return rooms
    },
    port,
    url: `ws://127.0.0.1:${port}${path}`,
    httpUrl: `http://127.0.0.1:${port}`,
    async connect(connectOptions = {}) {
      if (closing !== undefined) throw new RoomwireTestError('closed', 'connect() after close()')
      const label = connectOptions.user ?? `anonymous client ${++anonymous}`
      const made = await makeTestClient<P>(
        { protocol: options.protocol, port: () => port, path, issue: (id) => identities.issue(id), label },
        connectOptions,
      )
      if (closing !== undefined) {
        await made.dispose()
        throw new RoomwireTestError('closed', `${label} connected while the test server closed`)
      }
      clients.set(made.client, made)
      return made.client
    },
    async cut(client) {
      const { proxy } = known(client)
      const noticed = client.status === 'open' ? client.waitFor('reconnecting') : Promise.resolve()
      proxy.cut()
      await noticed
    },
    async restart(restartOptions = {}) {
      // Checked before the close: a closed adapter cannot serve the next server.
      if (adapter !== undefined && typeof adapter !== 'function') {
        throw new RoomwireTestError(
          'misuse',
          'restart() needs adapter as a function that makes a new adapter',
        )
      }
      if (historyStore !== undefined && typeof historyStore !== 'function') {
        throw new RoomwireTestError(
          'misuse',
          'restart() needs historyStore as a function that makes a new store (the server closes its store)',
        )
      }
      if (restartOptions.keepState !== true) kept.clear()
      await rooms.close({ timeoutMs: CLOSE_TIMEOUT_MS })
      if (restartOptions.keepState !== true) kept.clear()
      rooms = await start(port)
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
