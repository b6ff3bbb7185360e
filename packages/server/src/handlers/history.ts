import type { HistoryRequestMessage } from '@roomwire/protocol'
import type { HistoryPageResult, RoomAdapter } from '../adapter'
import { historyFrame } from '../history-frame'
import type { Handler } from './context'
import { OK, refused, storeRefusal } from './outcome'
import { admitPage, sendPage } from './page-budget'

/** Messages in a page when the client gives no `limit` (PROTOCOL.md, "Scrolling back"). */
export const DEFAULT_HISTORY_PAGE = 50

/**
 * `history`: one `history` frame with a page of the room's older messages from the adapter (its history
 * store when it has one), fitted into `maxMessageBytes` and charged to the connection's replay budget like
 * a join's replay. The limit is clamped to `historyPageMax`, not refused.
 */
export const history: Handler<HistoryRequestMessage> = async (ctx, connection, msg) => {
  const { room } = msg
  const admitted = admitPage(ctx, connection, room, 'history')
  if (!admitted.ok) return admitted
  const limit = Math.min(msg.limit ?? DEFAULT_HISTORY_PAGE, ctx.limits.historyPageMax)
  let page: HistoryPageResult | null
  try {
    page = await pageOf(ctx.adapter, room, msg.before, limit)
  } catch (err) {
    return storeRefusal(err)
  }
  if (page === null)
    return refused('unavailable', `history: room "${room}" is being restored; ask again shortly`)
  const { text } = historyFrame({ room, ref: msg.ref, ...page }, ctx.limits.maxMessageBytes)
  sendPage(ctx, connection, text)
  return OK
}

/** The adapter's page; an adapter that keeps no pages answers an empty one in the room's epoch. */
async function pageOf(
  adapter: RoomAdapter,
  room: string,
  before: number | undefined,
  limit: number,
): Promise<HistoryPageResult | null> {
  if (adapter.history !== undefined) {
    return adapter.history(room, before === undefined ? { limit } : { before, limit })
  }
  const info = await adapter.roomInfo(room)
  return info === null ? null : { epoch: info.epoch, frames: [], more: false }
}
