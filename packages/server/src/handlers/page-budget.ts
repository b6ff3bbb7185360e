import type { Connection } from '../connection'
import type { HandlerContext } from './context'
import { requireJoined } from './guards'
import { OK, type Outcome, refused } from './outcome'

/**
 * Whether a member of `room` may be sent a page now (`history`, `members_page`): pages share the replay
 * budget with a join's replay, so scrolling back cannot send more a second than joining could.
 */
export function admitPage(
  ctx: HandlerContext,
  connection: Connection,
  room: string,
  what: 'history' | 'members_page',
): Outcome {
  const joined = requireJoined(ctx, connection, room)
  if (!joined.ok) return joined
  if (ctx.replayBudget.allows(connection, ctx.clock.now())) return OK
  ctx.replayCounters.refused()
  return refused(
    'rate_limited',
    `${what}: this connection's joins and pages sent over ${ctx.limits.replayBytesPerSec} bytes a second; ask again shortly`,
  )
}

/** Send a page's frame and charge its bytes to the connection's replay budget. */
export function sendPage(ctx: HandlerContext, connection: Connection, text: string): void {
  connection.sendText(text)
  const bytes = Buffer.byteLength(text)
  ctx.replayBudget.charge(connection, bytes, ctx.clock.now())
  ctx.replayCounters.sent(bytes)
}
