import type { TimerHandle } from './clock'
import { RoomwireError } from './errors'
import { toMember } from './members'
import type { RoomEnv } from './room-env'
import type { MembersPage, MembersPageOptions } from './room-types'
import type { Transport } from './transport'

/** What a members page request needs from its room. */
export interface MembersSource {
  readonly name: string
  readonly transport: Transport
  readonly env: Pick<RoomEnv, 'clock' | 'ackTimeoutMs'>
  /** Whether the room is joined on the open connection. */
  joined(): boolean
}

/**
 * Ask the server for a page of the room's members (`members_page`, PROTOCOL.md "Big rooms") and wait for
 * its answer (or an error, the ack timeout, a drop). The page is the caller's: the room's own member
 * list is what the server keeps it told, which in counts mode is only itself.
 */
export function requestMembers(
  source: MembersSource,
  options: MembersPageOptions = {},
): Promise<MembersPage> {
  const { transport, env, name } = source
  if (!source.joined() || !transport.open) {
    return Promise.reject(
      new RoomwireError('not_connected', `room "${name}" is not joined on an open connection`),
    )
  }
  const message: Record<string, unknown> = { type: 'members_page', room: name }
  if (options.after !== undefined) message.after = options.after
  if (options.limit !== undefined) message.limit = options.limit
  return new Promise<MembersPage>((resolve, reject) => {
    let timer: TimerHandle | null = null
    const fail = (error: RoomwireError) => {
      if (timer !== null) env.clock.clearTimeout(timer)
      reject(error)
    }
    const ref = transport.request(message, {
      ack: () => fail(new RoomwireError('bad_frame', `room "${name}": members_page was answered by an ack`)),
      members: (reply) => {
        if (timer !== null) env.clock.clearTimeout(timer)
        const members = Object.freeze(reply.members.map(toMember))
        resolve(Object.freeze({ members, count: reply.count, more: reply.more }))
      },
      error: fail,
      disconnect: () =>
        fail(new RoomwireError('disconnected', 'the connection dropped before the members page came')),
    })
    if (typeof ref !== 'number') {
      reject(ref)
      return
    }
    timer = env.clock.setTimeout(() => {
      timer = null
      transport.forget(ref)
      reject(new RoomwireError('timeout', `no members page within ${env.ackTimeoutMs} ms`))
    }, env.ackTimeoutMs)
  })
}
