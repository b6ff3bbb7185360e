import type { TimerHandle } from './clock'
import { RoomwireError } from './errors'
import type { PendingRequest } from './pending-requests'
import type { RoomEnv } from './room-env'
import type { Transport } from './transport'

/** What a page request (`history`, `members_page`) needs from its room. */
export interface PageSource {
  readonly name: string
  readonly transport: Transport
  readonly env: Pick<RoomEnv, 'clock' | 'ackTimeoutMs'>
  /** Whether the room is joined on the open connection. */
  joined(): boolean
}

/**
 * Send one of a room's page requests and wait for its answer, which `answer` takes (`page` or `members`)
 * and turns into the result; an ack, an error, a drop or the ack timeout reject with a
 * {@link RoomwireError}, and so does a room not joined on an open connection (`not_connected`).
 */
export function askPage<T>(
  source: PageSource,
  message: Record<string, unknown>,
  answer: (done: (value: T) => void) => Pick<PendingRequest, 'page' | 'members'>,
): Promise<T> {
  const { transport, env, name } = source
  const what = `${message.type} page`
  if (!source.joined() || !transport.open) {
    return Promise.reject(
      new RoomwireError('not_connected', `room "${name}" is not joined on an open connection`),
    )
  }
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | null = null
    const settle = () => {
      if (timer !== null) env.clock.clearTimeout(timer)
      timer = null
    }
    const fail = (error: RoomwireError) => {
      settle()
      reject(error)
    }
    const ref = transport.request(message, {
      ...answer((value) => {
        settle()
        resolve(value)
      }),
      ack: () =>
        fail(new RoomwireError('bad_frame', `room "${name}": ${message.type} was answered by an ack`)),
      error: fail,
      disconnect: () =>
        fail(new RoomwireError('disconnected', `the connection dropped before the ${what} came`)),
    })
    if (typeof ref !== 'number') {
      reject(ref)
      return
    }
    timer = env.clock.setTimeout(() => {
      timer = null
      transport.forget(ref)
      reject(new RoomwireError('timeout', `no ${what} within ${env.ackTimeoutMs} ms`))
    }, env.ackTimeoutMs)
  })
}
