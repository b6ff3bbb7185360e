import type { ClientMessage } from '@roomwire/protocol'
import type { Connection } from '../connection'
import { cancel } from './cancel'
import type { Handler, HandlerContext, HandlerTable } from './context'
import { direct } from './direct'
import { history } from './history'
import { join } from './join'
import { leave } from './leave'
import { membersPage } from './members-page'
import type { Outcome } from './outcome'
import { ping } from './ping'
import { presence } from './presence'
import { publish } from './publish'
import { request } from './request'

export type { HandlerContext, HandlerHooks } from './context'
export type { Outcome, Refused } from './outcome'

/**
 * Every client message type and its handler. Adding a message type to the protocol fails to compile
 * until it has a line here (docs/ARCHITECTURE.md, "Adding a message type").
 */
export const handlers: HandlerTable = {
  join,
  leave,
  publish,
  presence,
  direct,
  ping,
  history,
  members_page: membersPage,
  request,
  cancel,
}

/** Handle one decoded client message: an outcome for what was expected; a throw is a bug. */
export function handleMessage(
  ctx: HandlerContext,
  connection: Connection,
  msg: ClientMessage,
  after?: Promise<void>,
): Outcome | Promise<Outcome> {
  // The table is keyed by type, so this handler takes exactly this message; TypeScript cannot correlate them.
  const handler = handlers[msg.type] as Handler<ClientMessage>
  return handler(ctx, connection, msg, after)
}
