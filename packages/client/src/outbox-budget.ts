import type { OutboxOptions } from './client-options'
import { RoomwireError } from './errors'

/** The client-wide bounds of the outbox, shared by every room's {@link Outbox}. */
export interface OutboxBudget {
  /** Take room for one publish of `bytes`; an `outbox_full` error when it would overflow. */
  reserve(bytes: number): RoomwireError | null
  release(bytes: number): void
}

/**
 * The client-wide bounds of the outbox: unacknowledged publishes over all rooms, counted in messages
 * and in frame bytes, so that an app publishing while offline cannot grow memory without limit.
 * Each room's outbox reserves before it queues and releases when a publish settles.
 */
export function createOutboxBudget(options: OutboxOptions | undefined): OutboxBudget {
  const maxMessages = options?.maxMessages ?? 1_000
  const maxBytes = options?.maxBytes ?? 1_048_576
  let count = 0
  let bytesHeld = 0
  return {
    reserve: (bytes) => {
      if (count + 1 > maxMessages || bytesHeld + bytes > maxBytes) {
        return new RoomwireError(
          'outbox_full',
          `the outbox holds ${count} messages (${bytesHeld} bytes); limits ${maxMessages} and ${maxBytes}`,
        )
      }
      count++
      bytesHeld += bytes
      return null
    },
    release: (bytes) => {
      count--
      bytesHeld -= bytes
    },
  }
}
