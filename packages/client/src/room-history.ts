import type { HistoryMessage } from '@roomwire/protocol'
import { arrivalOfFrame, roomMessage } from './arrivals'
import type { TimerHandle } from './clock'
import { RoomwireError } from './errors'
import type { Outbox } from './outbox'
import type { RoomEnv } from './room-env'
import type { RoomMessages } from './room-messages'
import type { HistoryOptions, HistoryPage } from './room-types'
import type { Transport } from './transport'

/** What a history request reads from its room, when it is made. */
export interface HistorySource {
  readonly name: string
  readonly transport: Transport
  readonly env: Pick<RoomEnv, 'clock' | 'ackTimeoutMs'>
  /** Where a page goes back from when the caller gives no `before`. */
  readonly messages: Pick<RoomMessages, 'historyBefore'>
  /** The own publishes still waiting for their ack (a page's message with one's id is `own`). */
  readonly outbox: Pick<Outbox, 'find'>
  /** Whether the room is joined on the open connection. */
  joined(): boolean
}

/**
 * Ask the server for a page of the room's older messages and wait for its `history` frame (or an error,
 * the ack timeout, a drop). The messages come as live ones do: decoded by the protocol's schemas (a frame
 * that fails is dropped by the connection and reported as `bad_frame`), with their meta.
 */
export function requestHistory(source: HistorySource, options: HistoryOptions = {}): Promise<HistoryPage> {
  const { transport, env, name } = source
  if (!source.joined() || !transport.open) {
    return Promise.reject(
      new RoomwireError('not_connected', `room "${name}" is not joined on an open connection`),
    )
  }
  const before = options.before ?? source.messages.historyBefore
  const message: Record<string, unknown> = { type: 'history', room: name }
  if (before !== undefined) message.before = before
  if (options.limit !== undefined) message.limit = options.limit
  return new Promise<HistoryPage>((resolve, reject) => {
    let timer: TimerHandle | null = null
    const settle = () => {
      if (timer !== null) env.clock.clearTimeout(timer)
      timer = null
    }
    const ref = transport.request(message, {
      ack: () => {
        settle()
        reject(new RoomwireError('bad_frame', `room "${name}": history was answered by an ack`))
      },
      page: (reply: HistoryMessage) => {
        settle()
        const self = transport.clientId
        const messages = reply.messages.map((m) =>
          roomMessage(
            arrivalOfFrame(
              m,
              0,
              m.id === undefined ? undefined : source.outbox.find(m.id),
              self,
              reply.epoch,
            ),
          ),
        )
        resolve(Object.freeze({ messages: Object.freeze(messages), more: reply.more, epoch: reply.epoch }))
      },
      error: (error) => {
        settle()
        reject(error)
      },
      disconnect: () => {
        settle()
        reject(new RoomwireError('disconnected', 'the connection dropped before the history page came'))
      },
    })
    if (typeof ref !== 'number') {
      reject(ref)
      return
    }
    timer = env.clock.setTimeout(() => {
      timer = null
      transport.forget(ref)
      reject(new RoomwireError('timeout', `no history page within ${env.ackTimeoutMs} ms`))
    }, env.ackTimeoutMs)
  })
}
