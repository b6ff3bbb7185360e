import type { Member, MembersPageRequestMessage } from '@roomwire/protocol'
import type { AdapterRoomInfo } from '../adapter'
import { membersPageBytes } from '../join-frames'
import type { Handler } from './context'
import { OK, refused, storeRefusal } from './outcome'
import { admitPage, sendPage } from './page-budget'

/** Members in a page when the client gives no `limit` (PROTOCOL.md, "Big rooms"). */
export const DEFAULT_MEMBERS_PAGE = 100
/** The most members one page holds, whatever `limit` asks. */
export const MEMBERS_PAGE_MAX = 1000

/**
 * `members_page`: one `members_page` frame with the room's members (cluster-wide: the adapter's list) in
 * id order after `after`, within `limit` and a member page's bytes, and the room's count. Charged to the
 * connection's replay budget like a join's member pages. A page is read when it is asked for: members who
 * join or leave between two pages are in the next page or not, as their id falls.
 */
export const membersPage: Handler<MembersPageRequestMessage> = async (ctx, connection, msg) => {
  const { room } = msg
  const admitted = admitPage(ctx, connection, room, 'members_page')
  if (!admitted.ok) return admitted
  let info: AdapterRoomInfo | null
  try {
    info = await ctx.adapter.roomInfo(room)
  } catch (err) {
    return storeRefusal(err)
  }
  if (info === null)
    return refused('unavailable', `members_page: room "${room}" is being restored; ask again shortly`)
  const limit = Math.min(msg.limit ?? DEFAULT_MEMBERS_PAGE, MEMBERS_PAGE_MAX)
  const maxBytes = Math.min(membersPageBytes(ctx.limits.maxBufferedBytes), ctx.limits.maxMessageBytes - 256)
  const { list, more } = pageOf(info.members, msg.after, limit, maxBytes)
  const head = { type: 'members_page', room, ref: msg.ref, count: info.members.length, more }
  const text = `${JSON.stringify(head).slice(0, -1)},"members":[${list.join(',')}]}`
  sendPage(ctx, connection, text)
  return OK
}

/** The members after `after` in id order (code units), as JSON: at most `limit`, `maxBytes`, at least one. */
function pageOf(
  members: readonly Member[],
  after: string | undefined,
  limit: number,
  maxBytes: number,
): { list: string[]; more: boolean } {
  const rest = (after === undefined ? [...members] : members.filter((m) => m.id > after)).sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  )
  const list: string[] = []
  let bytes = 0
  for (const member of rest) {
    if (list.length >= limit) break
    const json = JSON.stringify(member)
    const size = Buffer.byteLength(json) + 1
    if (list.length > 0 && bytes + size > maxBytes) break
    list.push(json)
    bytes += size
  }
  return { list, more: list.length < rest.length }
}
