import type { Protocol } from '@roomwire/protocol'
import { backoffDelay, type ReconnectOptions, reconnectDefaults } from './backoff'
import type { ClientOptions } from './client-options'
import type { Clock } from './clock'
import type { RoomwireError } from './errors'
import { createMessageIds } from './message-ids'
import { createOutboxBudget, type OutboxBudget } from './outbox-budget'
import type { RequestOptions } from './requests'

/**
 * What every room of a client shares and none of them owns: time, the protocol, the timeouts and
 * bounds from the client's options, ids, and where errors go. Fixed for the client's life; what changes
 * with the connection is the {@link Transport}'s.
 */
export interface RoomEnv {
  readonly clock: Clock
  readonly protocol: Protocol | undefined
  readonly ackTimeoutMs: number
  readonly leaveGraceMs: number
  readonly gapTimeoutMs: number
  /** Most messages and bytes held behind a gap, per room. */
  readonly maxHeld: number
  readonly maxHeldBytes: number
  /** Most members kept per room. */
  readonly maxMembers: number
  /** How many recent messages a room keeps for message logs made after they arrived. */
  readonly recentMessages: number
  /** The client-wide outbox bounds. */
  readonly budget: OutboxBudget
  newMessageId(): string
  /** The jittered wait before retry `attempt` (0-based) of a retryable refusal. */
  retryDelay(attempt: number): number
  /** An app handler threw (reported on the client's `error`, else logged). */
  handlerFailed(error: unknown, where: string): void
  /** Report what the app cannot see in the state (a refused frame) on the client's `error` event. */
  report(error: RoomwireError): void
}

/** What a room tells the client that holds it. */
export interface RoomOwner {
  /**
   * The room's join settled: joined with its whole member list, or refused for good. Once all have,
   * the connection may count as healthy.
   */
  settled(): void
  /** A holder let go (`room.leave()`): the last one leaves after `leaveGraceMs`. */
  release(room: { readonly name: string }): void
  /** Make a request for this room (`room.request`): the client's request machinery sends it. */
  request(room: string, name: string, input: unknown, options: RequestOptions | undefined): Promise<unknown>
}

/** The env from the client's options, with their defaults. */
export function createRoomEnv(
  options: ClientOptions<Protocol>,
  client: Pick<RoomEnv, 'clock' | 'handlerFailed' | 'report'> & {
    random: () => number
    backoff: Required<ReconnectOptions> | null
  },
): RoomEnv {
  const { random, backoff } = client
  return {
    clock: client.clock,
    protocol: options.protocol,
    ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
    leaveGraceMs: options.leaveGraceMs ?? 500,
    gapTimeoutMs: options.gapTimeoutMs ?? 5_000,
    maxHeld: options.hold?.maxMessages ?? 1_000,
    maxHeldBytes: options.hold?.maxBytes ?? 1_048_576,
    maxMembers: options.maxMembers ?? 10_000,
    recentMessages: options.recentMessages ?? 100,
    budget: createOutboxBudget(options.outbox),
    newMessageId: createMessageIds(random),
    // Retryable refusals wait like reconnects do (full jitter, the same bounds).
    retryDelay: (attempt) => backoffDelay(attempt, backoff ?? reconnectDefaults, random),
    handlerFailed: client.handlerFailed,
    report: client.report,
  }
}
