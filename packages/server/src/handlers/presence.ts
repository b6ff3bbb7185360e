import type { PresenceMessage } from '@roomwire/protocol'
import type { Handler } from './context'
import { authorize, requireJoined, validatePresence } from './guards'
import { OK, storeRefusal } from './outcome'

/** `presence`: a member replaces its state; the adapter announces it to the others. */
export const presence: Handler<PresenceMessage> = async (ctx, connection, msg) => {
  const joined = requireJoined(ctx, connection, msg.room)
  if (!joined.ok) return joined
  const state = validatePresence(ctx, msg.state, 'state')
  if (!state.ok) return state
  const allowed = await authorize(ctx, connection, { action: 'presence', room: msg.room })
  if (!allowed.ok) return allowed
  // The hook may have awaited while the member left or the socket closed.
  const still = requireJoined(ctx, connection, msg.room)
  if (!still.ok) return still
  try {
    await ctx.adapter.setPresence(msg.room, connection.id, state.value)
  } catch (err) {
    return storeRefusal(err)
  }
  if (msg.ref !== undefined) connection.sendAck(msg.ref)
  return OK
}
