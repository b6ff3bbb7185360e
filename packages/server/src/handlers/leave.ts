import type { LeaveMessage } from '@roomwire/protocol'
import type { Handler } from './context'
import { requireJoined } from './guards'
import { OK, storeRefusal } from './outcome'

/** `leave`: out of the node's membership at once, then out of the adapter, then `left` and `onLeave`. */
export const leave: Handler<LeaveMessage> = async (ctx, connection, msg) => {
  const joined = requireJoined(ctx, connection, msg.room)
  if (!joined.ok) return joined
  ctx.local.leave(msg.room, connection)
  try {
    await ctx.adapter.leave(msg.room, connection.id)
  } catch (err) {
    return storeRefusal(err)
  }
  connection.send(
    msg.ref === undefined ? { type: 'left', room: msg.room } : { type: 'left', room: msg.room, ref: msg.ref },
  )
  const onLeave = ctx.hooks.onLeave
  if (onLeave !== undefined) ctx.notify(connection, 'onLeave', () => onLeave(connection.info(), msg.room))
  return OK
}
