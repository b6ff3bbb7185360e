import type {
  ClientRequestName,
  DirectData,
  DirectInput,
  DirectName,
  Limits,
  Protocol,
  RequestOutput,
  WelcomeMessage,
} from '@roomwire/protocol'
import type { RoomwireError } from './errors'
import type { RequestArgs } from './requests'
import type { AnyProtocol, JoinOptions, Room } from './room-types'

/** Connection status. `idle` until `connect()` when `autoConnect` is false. */
export type ClientStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized'

/** The client's state, immutable, the same object until something in it changed. */
export interface ClientSnapshot {
  readonly status: ClientStatus
  /** This connection's id from `welcome`; null while not open. */
  readonly id: string | null
  /** The authenticated user from `welcome`; null while not open or anonymous. */
  readonly user: string | null
  /**
   * Failed attempts in a row since the last healthy connection (rooms joined, open for
   * `healthyAfterMs`): a connection that drops soon after `welcome` does not restart the backoff.
   */
  readonly attempt: number
  /** When the next attempt starts, on the clock's scale (`Date.now()` by default); null unless waiting. */
  readonly retryAt: number | null
  readonly lastError: RoomwireError | null
  /** Code of the last close the client did not ask for. */
  readonly closeCode: number | null
}

/** What a direct-message handler gets besides the data. */
export interface DirectMeta {
  readonly from: string
  readonly ts: number
}

/** Client events. */
export interface ClientEvents {
  status: (snapshot: ClientSnapshot) => void
  /**
   * Something the app cannot see in the state: a final stop, a server error without a pending request, a
   * frame that fails the protocol, a handler that threw. Routine disconnects are in the snapshot instead.
   */
  error: (error: RoomwireError) => void
  welcome: (welcome: WelcomeMessage) => void
}

/** A roomwire client: one connection, any number of rooms. */
export interface Client<P extends Protocol = AnyProtocol> {
  readonly status: ClientStatus
  readonly id: string | null
  readonly user: string | null
  /** The server's limits from the last `welcome`. */
  readonly limits: Limits | null
  on<K extends keyof ClientEvents>(event: K, handler: ClientEvents[K]): () => void
  subscribe(listener: () => void): () => void
  getSnapshot(): ClientSnapshot
  /** Start connecting (needed only with `autoConnect: false`, or after `close()`). */
  connect(): void
  /** Start a new attempt now with a fresh backoff, also after the client stopped retrying. */
  reconnect(): void
  /** Join a room, or take one more reference to it. */
  join(name: string, options?: JoinOptions<P>): Room<P>
  /** Send a direct message to a connection id; resolves at the ack. */
  direct<K extends DirectName<P>>(to: string, event: K, data: DirectInput<P, K>): Promise<void>
  onDirect<K extends DirectName<P>>(
    event: K,
    handler: (data: DirectData<P, K>, meta: DirectMeta) => void,
  ): () => void
  /**
   * Call a request the protocol declares and get its answer: the input is validated before sending,
   * the output after receiving. Rejects with a {@link RoomwireError} whose code is one the request
   * declares in `errors`, or: `timeout` (no answer within `timeoutMs`, or the server's handler timed
   * out), `disconnected` (the connection dropped before the answer, so it may or may not have run; or
   * offline with `whenOffline: 'fail'`), `aborted`, `closed`, `invalid_event` (input refused),
   * `bad_frame` (output refused), `too_large`, `internal`. An idempotent request is sent again after a
   * reconnect instead of failing with `disconnected`.
   * @example
   * const { id } = await client.request('createRoom', { name: 'lobby' }, { timeoutMs: 5_000 })
   */
  request<K extends ClientRequestName<P>>(name: K, ...args: RequestArgs<P, K>): Promise<RequestOutput<P, K>>
  /** Close for good: rejects pending operations with `closed`, leaves rooms, and stops every timer. */
  close(): void
}
