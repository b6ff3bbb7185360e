import type { RoomEventMessage } from '@roomwire/protocol'
import type { Arrival } from './message-order'
import type { PublishEntry } from './outbox'
import type { MessageMeta, RoomMessage } from './room-types'

/**
 * A room `message` frame on its way to the order. `own` is the outbox entry it echoes, if any: an own
 * publish without echo reaches this client only through a replay after a reconnect, and goes to
 * `onMessage` like the ack-synthesized copy would (the later ack finds it delivered).
 */
export function arrivalOfFrame(
  message: RoomEventMessage,
  bytes: number,
  own: PublishEntry | undefined,
  self: string | null,
  epoch: string,
): Arrival {
  const meta: MessageMeta = {
    from: message.from,
    seq: message.seq,
    epoch,
    ts: message.ts,
    own: own !== undefined || (self !== null && message.from === self),
    ...(message.id === undefined ? {} : { id: message.id }),
    ...(message.user === undefined ? {} : { user: message.user }),
  }
  return { event: message.event, data: message.data, meta, toHandlers: own?.echo ?? true, bytes }
}

/**
 * The copy of an own publish without echo, made from its ack: the server sends the message to everyone
 * else only, so the ack stands for it. It goes through the order like any message (held behind a gap,
 * so an ack never moves last seen past messages not received), to `onMessage` and the logs only.
 */
export function arrivalOfAck(
  entry: PublishEntry,
  seq: number,
  self: string | null,
  epoch: string,
  now: number,
): Arrival {
  const meta: MessageMeta = { from: self ?? '', seq, epoch, ts: now, id: entry.id, own: true }
  return { event: entry.event, data: entry.data, meta, toHandlers: false, bytes: entry.frame.bytes }
}

/** What `onMessage` handlers and the message logs get. */
export function roomMessage(arrival: Arrival): RoomMessage {
  return { event: arrival.event, data: arrival.data, ...arrival.meta }
}
