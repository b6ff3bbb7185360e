import type { CancelMessage } from '@roomwire/protocol'
import type { Handler } from './context'
import { OK } from './outcome'

/**
 * `cancel` → the request runner stops this connection's requests with that id (their signals fire, their
 * slots free, no answer follows). Handled in the connection's order, so it finds a request sent before it.
 * Never refused: an id that names nothing running (unknown, answered, cancelled already) changes nothing,
 * since a cancel may cross its request's answer on the wire. Acked when it carries a `ref`.
 */
export const cancel: Handler<CancelMessage> = (ctx, connection, msg) => {
  ctx.requests.cancel(connection, msg.id)
  if (msg.ref !== undefined) connection.sendAck(msg.ref)
  return OK
}
