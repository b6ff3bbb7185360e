import type { DirectMessage } from '@roomwire/protocol'
import type { Handler } from './context'
import { authorize, validateDirect } from './guards'
import { OK, refused, storeRefusal } from './outcome'

/** `direct`: one connection, on any node, gets the event; `not_found` when it is not connected. */
export const direct: Handler<DirectMessage> = async (ctx, connection, msg) => {
  const data = validateDirect(ctx, msg.event, msg.data)
  if (!data.ok) return data
  const allowed = await authorize(ctx, connection, { action: 'direct', to: msg.to, event: msg.event })
  if (!allowed.ok) return allowed
  let delivered: boolean
  try {
    delivered = await ctx.adapter.sendDirect(msg.to, {
      type: 'direct',
      event: msg.event,
      data: data.value,
      from: connection.id,
      ts: ctx.clock.now(),
    })
  } catch (err) {
    return storeRefusal(err)
  }
  if (!delivered) return refused('not_found', `to: no connection "${msg.to}" is connected`)
  if (msg.ref !== undefined) connection.sendAck(msg.ref)
  return OK
}
