import type { RoomEventMessage } from '@roomwire/protocol'
import type { PublishInput } from './adapter'

/**
 * The `message` frame of a publish at `seq`: the one shape every adapter stores and fans out (memory,
 * a history store beside it, Redis with a store). `id` and `user` only when the publish has them, so the
 * frame's text carries no `undefined` keys.
 */
export function messageFrame(room: string, input: PublishInput, seq: number): RoomEventMessage {
  const message: RoomEventMessage = {
    type: 'message',
    room,
    event: input.event,
    data: input.data,
    from: input.from,
    seq,
    ts: input.ts,
  }
  if (input.id !== undefined) message.id = input.id
  if (input.user !== undefined) message.user = input.user
  return message
}
