import type { PingMessage, Ref } from '@roomwire/protocol'
import type { Handler } from './context'
import { OK } from './outcome'

/** `ping` → `pong`, echoing `t` and `ref` (the app-level heartbeat browsers can send). */
export const ping: Handler<PingMessage> = (_ctx, connection, msg) => {
  const pong: { type: 'pong'; t?: number; ref?: Ref } = { type: 'pong' }
  if (msg.t !== undefined) pong.t = msg.t
  if (msg.ref !== undefined) pong.ref = msg.ref
  connection.send(pong)
  return OK
}
