import type { HistoryMessage } from '@roomwire/protocol'
import { arrivalOfFrame, roomMessage } from './arrivals'
import type { Outbox } from './outbox'
import { askPage, type PageSource } from './page-request'
import type { RoomMessages } from './room-messages'
import type { HistoryOptions, HistoryPage } from './room-types'

/** What a history request reads from its room, when it is made. */
export interface HistorySource extends PageSource {
  /** Where a page goes back from when the caller gives no `before`. */
  readonly messages: Pick<RoomMessages, 'historyBefore'>
  /** The own publishes still waiting for their ack (a page's message with one's id is `own`). */
  readonly outbox: Pick<Outbox, 'find'>
}

/**
 * Ask the server for a page of the room's older messages and wait for its `history` frame (or an error,
 * the ack timeout, a drop). The messages come as live ones do: decoded by the protocol's schemas (a frame
 * that fails is dropped by the connection and reported as `bad_frame`), with their meta.
 */
export function requestHistory(source: HistorySource, options: HistoryOptions = {}): Promise<HistoryPage> {
  const before = options.before ?? source.messages.historyBefore
  const message: Record<string, unknown> = { type: 'history', room: source.name }
  if (before !== undefined) message.before = before
  if (options.limit !== undefined) message.limit = options.limit
  return askPage<HistoryPage>(source, message, (done) => ({
    page: (reply: HistoryMessage) => {
      const self = source.transport.clientId
      const messages = reply.messages.map((m) =>
        roomMessage(
          arrivalOfFrame(m, 0, m.id === undefined ? undefined : source.outbox.find(m.id), self, reply.epoch),
        ),
      )
      done(Object.freeze({ messages: Object.freeze(messages), more: reply.more, epoch: reply.epoch }))
    },
  }))
}
