import type { AckMessage, Limits, Protocol } from '@roomwire/protocol'
import type { Clock } from './clock'
import type { RoomwireError } from './errors'

/** What the client does with the answer to a message that carried a `ref`. */
export interface PendingRequest {
  ack(message: AckMessage): void
  error(error: RoomwireError): void
  /** The connection dropped before an answer came. */
  disconnect(): void
}

/** What a room needs from its client (internal: rooms are created by `client.join`). */
export interface RoomHost {
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
  /** True once the current connection got its `welcome`. */
  isOpen(): boolean
  clientId(): string | null
  limits(): Limits | null
  /**
   * Write a message with a fresh ref and track its answer. Returns the ref, or why nothing was written
   * (`not_connected`, `too_large`).
   */
  request(message: Record<string, unknown>, pending: PendingRequest): number | RoomwireError
  forget(ref: number): void
  newMessageId(): string
  /** The jittered wait before retry `attempt` (0-based) of a retryable refusal. */
  retryDelay(attempt: number): number
  /** Take room in the outbox; an error when it would overflow. */
  reserve(bytes: number): RoomwireError | null
  release(bytes: number): void
  handlerFailed(error: unknown, where: string): void
  /** Report what the app cannot see in the state (a refused frame) on the client's `error` event. */
  report(error: RoomwireError): void
  /**
   * The room's join settled: joined with its whole member list, or refused for good. Once all have,
   * the connection may count as healthy.
   */
  settled(): void
  /** The room was left for good: forget it. */
  removeRoom(name: string): void
}
