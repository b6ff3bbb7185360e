import { toMember } from './members'
import { askPage, type PageSource } from './page-request'
import type { MembersPage, MembersPageOptions } from './room-types'

/**
 * Ask the server for a page of the room's members (`members_page`, PROTOCOL.md "Big rooms") and wait for
 * its answer. The page is the caller's: the room's own member list is what the server keeps it told,
 * which in counts mode is only itself.
 */
export function requestMembers(source: PageSource, options: MembersPageOptions = {}): Promise<MembersPage> {
  const message: Record<string, unknown> = { type: 'members_page', room: source.name }
  if (options.after !== undefined) message.after = options.after
  if (options.limit !== undefined) message.limit = options.limit
  return askPage<MembersPage>(source, message, (done) => ({
    members: (reply) =>
      done(
        Object.freeze({
          members: Object.freeze(reply.members.map(toMember)),
          count: reply.count,
          more: reply.more,
        }),
      ),
  }))
}
