import { RoomwireError } from './errors'
import type { RoomHost } from './room-host'
import type { OutboxOptions } from './types'

/**
 * The client-wide bounds of the outbox: unacknowledged publishes over all rooms, counted in messages
 * and in frame bytes, so that an app publishing while offline cannot grow memory without limit.
 * Each room's {@link Outbox} reserves before it queues and releases when a publish settles.
 */
export function createOutboxBudget(
  options: OutboxOptions | undefined,
): Pick<RoomHost, 'reserve' | 'release'> {
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
