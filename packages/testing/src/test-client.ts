import {
  type Client,
  type ClientOptions,
  type ClientSnapshot,
  type ClientStatus,
  createClient,
  type JoinOptions,
  type Room,
  type TokenProvider,
} from '@roomwire/client'
import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { type CutProxy, startCutProxy } from './cut-proxy'
import { RoomwireTestError } from './errors'
import { type RawFrames, Wire } from './raw-frames'
import { RoomRecorder, type TestRoom } from './test-room'
import { waitForSnapshot } from './wait-for'

/** Options of `server.connect()`. */
export interface ConnectOptions<P extends Protocol = UntypedProtocol> {
  /** Authenticate as this user, without a real token (the test server's own `authenticate` lets it in). */
  user?: string
  /** The connection's `data`, as an app's `authenticate` would return it: every hook sees it. */
  data?: unknown
  /** Instead of `user`: a token for the app's own `authenticate` hook (to test it). */
  token?: TokenProvider
  /**
   * Resolve only once the connection is open (`welcome`); reject with `refused` if the server refuses
   * it for good. With `false`, resolve at once (to test refusals through the client's status).
   * @default true
   */
  wait?: boolean
  /** @default 5000 */
  timeoutMs?: number
  /** Any other `createClient` option; the kit's fast defaults otherwise ({@link TEST_CLIENT_DEFAULTS}). */
  client?: Omit<ClientOptions<P>, 'url' | 'protocol' | 'token'>
}

/**
 * A real `@roomwire/client` with test helpers. `join` is the client's own; the kit records each
 * room from its first join, so `room(name)` misses nothing that came before it was asked for.
 */
export type TestClient<P extends Protocol = UntypedProtocol> = Client<P> & {
  /** The recorded room `name`; throws `misuse` if this client never joined it. */
  room(name: string): TestRoom<P>
  /** The client's frames on the wire. */
  readonly raw: RawFrames
  /** Resolves once the client's status is `status` (`open` again after a cut, say). */
  waitFor(status: ClientStatus, options?: { timeoutMs?: number }): Promise<void>
  /** `close()`, then wait until its sockets and its proxy are closed. */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Client options the kit uses unless `connect({ client })` says otherwise: retries within tens of
 * milliseconds (a test waits for a reconnect, it should not sit through production backoff), a short
 * connect timeout and leave grace.
 */
export const TEST_CLIENT_DEFAULTS = {
  reconnect: { initialMs: 20, factor: 2, maxMs: 200, overloadedMinMs: 100 },
  connectTimeoutMs: 2000,
  leaveGraceMs: 20,
  healthyAfterMs: 200,
} as const satisfies Omit<ClientOptions, 'url'>

/** What a test server hands a new client. */
export interface ClientSetup<P extends Protocol> {
  protocol: P | undefined
  /** The server's port now (the same across restarts). */
  port: () => number
  path: string
  /** A token for `{ user, data }` on this server. */
  issue: (identity: { user?: string; data?: unknown }) => string
  label: string
}

/** A connected test client and what its server needs to cut and close it. */
export interface MadeClient<P extends Protocol> {
  client: TestClient<P>
  proxy: CutProxy
  dispose: () => Promise<void>
}

export async function makeTestClient<P extends Protocol>(
  setup: ClientSetup<P>,
  options: ConnectOptions<P>,
): Promise<MadeClient<P>> {
  const proxy = await startCutProxy(setup.port)
  const wire = new Wire(setup.label)
  const token =
    options.token ??
    (options.user === undefined && options.data === undefined
      ? undefined
      : setup.issue({
          ...(options.user === undefined ? {} : { user: options.user }),
          ...(options.data === undefined ? {} : { data: options.data }),
        }))
  const client = createClient<P>({
    ...TEST_CLIENT_DEFAULTS,
    WebSocket: wire.constructorForClient,
    ...options.client,
    url: `ws://127.0.0.1:${proxy.port}${setup.path}`,
    ...(setup.protocol === undefined ? {} : { protocol: setup.protocol }),
    ...(token === undefined ? {} : { token }),
  } as ClientOptions<P>)
  const recorders = new Map<string, RoomRecorder<P>>()
  const join = client.join.bind(client)
  let disposed: Promise<void> | undefined
  const dispose = () => {
    disposed ??= (async () => {
      client.close()
      for (const recorder of recorders.values()) recorder.close(`${setup.label} closed`)
      await wire.closed()
      await proxy.close()
    })()
    return disposed
  }
  const helpers = {
    join: (name: string, joinOptions?: JoinOptions<P>): Room<P> => {
      const handle = join(name, joinOptions)
      let recorder = recorders.get(name)
      if (recorder === undefined) {
        recorder = new RoomRecorder<P>(name, setup.label)
        recorders.set(name, recorder)
      }
      recorder.attach(handle)
      return handle
    },
    room: (name: string): TestRoom<P> => {
      const recorder = recorders.get(name)
      if (recorder === undefined) {
        throw new RoomwireTestError('misuse', `${setup.label} never joined room "${name}": join it first`)
      }
      return recorder.view
    },
    raw: wire.raw,
    waitFor: (status: ClientStatus, waitOptions?: { timeoutMs?: number }) =>
      waitForSnapshot({
        subscribe: (listener) => client.subscribe(listener),
        current: () => client.status,
        wanted: status,
        label: setup.label,
        timeoutMs: waitOptions?.timeoutMs,
        detail: () => lastError(client),
      }),
    [Symbol.asyncDispose]: dispose,
  }
  // The helpers go on the client itself, so the object a test (or a React provider) holds is the real
  // client: every join through it is recorded, whoever calls it.
  const testClient = Object.assign(client, helpers) as unknown as TestClient<P>
  if (options.wait === false) return { client: testClient, proxy, dispose }
  try {
    await waitForSnapshot({
      subscribe: (listener) => client.subscribe(listener),
      current: () => client.status,
      wanted: 'open',
      final: ['unauthorized', 'closed'],
      label: `${setup.label} connecting`,
      timeoutMs: options.timeoutMs ?? 5000,
      detail: () => lastError(client),
    })
  } catch (error) {
    await dispose()
    throw error
  }
  return { client: testClient, proxy, dispose }
}

function lastError(client: { getSnapshot(): ClientSnapshot }): string {
  const { lastError, closeCode } = client.getSnapshot()
  const code = closeCode === null ? '' : `close code ${closeCode}, `
  return lastError === null ? `${code}no error` : `${code}last error ${lastError.code}: ${lastError.message}`
}
