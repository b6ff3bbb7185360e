import type { RequestMessage } from '@roomwire/protocol'
import type { Handler } from './context'

/**
 * `request` → its handler (request-runner.ts). Started here, in the connection's order, so a join just
 * before it is done; its handler runs beside the connection's next messages and answers with `reply`
 * (or `error`) when it ends. A refusal found before the handler runs is this message's outcome.
 */
export const request: Handler<RequestMessage> = (ctx, connection, msg) => ctx.requests.start(connection, msg)
