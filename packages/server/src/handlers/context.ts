import type { ClientMessage, Protocol } from '@roomwire/protocol'
import type { RoomAdapter } from '../adapter'
import type { Clock } from '../clock'
import type { Connection } from '../connection'
import type { InFlight } from '../in-flight'
import type { ResolvedLimits } from '../limits'
import type { LocalRooms } from '../local-rooms'
import type { RoomServerOptions } from '../options'
import type { ReplayBudget } from '../replay-budget'
import type { RequestRunner } from '../request-runner'
import type { Outcome } from './outcome'

/** The application hooks a handler may call. */
export type HandlerHooks = Pick<RoomServerOptions, 'authorize' | 'onPublish' | 'onJoin' | 'onLeave'>

/** What the message handlers need from their server: nothing else is in their reach. */
export interface HandlerContext {
  readonly limits: ResolvedLimits
  readonly protocol: Protocol | undefined
  readonly adapter: RoomAdapter
  /** This node's membership: handlers ask it and change it, nothing else writes it. */
  readonly local: LocalRooms
  readonly hooks: HandlerHooks
  readonly clock: Clock
  /** Whether the connection is still open and registered (a join may outlive its socket). */
  isOpen(connection: Connection): boolean
  /** Run an app notification hook (onJoin, onLeave): a throw or rejection is logged, never surfaced. */
  notify(connection: Connection, hook: string, run: () => unknown): void
  /** Each connection's budget of bytes its joins may send. */
  readonly replayBudget: ReplayBudget
  /** Publishes waiting for an asynchronous adapter: shutdown writes its notice after their acks. */
  readonly publishes: InFlight
  /** False once the server started shutting down: publishes are refused with `unavailable` from then on. */
  isAccepting(): boolean
  /** Close a connection as a slow consumer (4008), counted and logged. */
  slowConsumer(connection: Connection): void
  /** Count the bytes a join's frames took, and joins refused by the replay budget. */
  readonly replayCounters: { sent(bytes: number): void; refused(): void }
  /** The request path: a request starts here and is answered when its handler ends. */
  readonly requests: RequestRunner<Connection>
}

/** Handles one client message of type `M`: an outcome for what was expected, a throw for a bug. */
export type Handler<M extends ClientMessage> = (
  ctx: HandlerContext,
  connection: Connection,
  msg: M,
  /** Pipelined (inbound.ts): the answer of the message before it; this one's answer is written after. */
  after?: Promise<void>,
) => Outcome | Promise<Outcome>

/** One handler per client message type: a type without an entry does not compile. */
export type HandlerTable = {
  readonly [T in ClientMessage['type']]: Handler<Extract<ClientMessage, { type: T }>>
}
