import type { Connection } from '../connection'
import type { AuthorizeRequest } from '../hooks'
import type { HandlerContext } from './context'
import { type Checked, OK, type Outcome, refused } from './outcome'

/** The connection has joined `room` (a pending join is not yet a member). */
export function requireJoined(ctx: HandlerContext, connection: Connection, room: string): Outcome {
  if (ctx.local.stateOf(room, connection) === 'joined') return OK
  return refused('not_joined', `room: this connection has not joined "${room}"`)
}

/** What an authorize request says besides who asks. */
type Subject =
  | { action: 'join' | 'presence'; room: string }
  | { action: 'publish'; room: string; event: string }
  | { action: 'direct'; to: string; event: string }

/** The application's `authorize` hook allows this; `forbidden` otherwise. */
export async function authorize(
  ctx: HandlerContext,
  connection: Connection,
  subject: Subject,
): Promise<Outcome> {
  const hook = ctx.hooks.authorize
  if (hook === undefined) return OK
  const request = {
    ...subject,
    connection: connection.info(),
    user: connection.user,
    connectionId: connection.id,
  } as AuthorizeRequest
  if ((await hook(request)) === true) return OK
  const what =
    subject.action === 'direct' ? `direct to ${subject.to}` : `${subject.action} in room ${subject.room}`
  return refused('forbidden', `${what} is not allowed for this connection`)
}

/** A room event's payload, as the application's protocol reads it (unchanged without one). */
export function validateEvent(ctx: HandlerContext, event: string, data: unknown): Checked<unknown> {
  if (ctx.protocol === undefined) return { ok: true, value: data }
  const result = ctx.protocol.validateEvent(event, data)
  return result.success ? { ok: true, value: result.data } : refused('invalid_event', result.error.message)
}

/** A direct event's payload, as the application's protocol reads it (unchanged without one). */
export function validateDirect(ctx: HandlerContext, event: string, data: unknown): Checked<unknown> {
  if (ctx.protocol === undefined) return { ok: true, value: data }
  const result = ctx.protocol.validateDirect(event, data)
  return result.success ? { ok: true, value: result.data } : refused('invalid_event', result.error.message)
}

/** A presence state: valid for the protocol and within `maxPresenceBytes`. */
export function validatePresence(
  ctx: HandlerContext,
  state: unknown,
  field: 'state' | 'presence',
): Checked<unknown> {
  if (ctx.protocol !== undefined) {
    const result = ctx.protocol.validatePresence(state, field)
    if (!result.success) return refused('invalid_event', result.error.message)
    state = result.data
  }
  const bytes = Buffer.byteLength(JSON.stringify(state) ?? '')
  if (bytes > ctx.limits.maxPresenceBytes) {
    return refused(
      'too_large',
      `${field}: presence state is ${bytes} bytes, over the limit of ${ctx.limits.maxPresenceBytes}`,
    )
  }
  return { ok: true, value: state }
}
