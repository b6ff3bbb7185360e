import type { PublishMessage } from '@roomwire/protocol'
import type { PublishInput } from '../adapter'
import type { Connection } from '../connection'
import { checkPayload } from '../server-input'
import type { Handler, HandlerContext } from './context'
import { authorize, requireJoined, validateEvent } from './guards'
import { type Checked, OK, type Outcome, refused, storeRefusal } from './outcome'

/**
 * `publish`: validated, authorized and passed through `onPublish`, then handed to the adapter, which gives
 * it its seq and fans it out (AdapterNode.deliver); the publisher gets an `ack` with the seq.
 */
export const publish: Handler<PublishMessage> = async (ctx, connection, msg) => {
  const joined = requireJoined(ctx, connection, msg.room)
  if (!joined.ok) return joined
  const valid = validateEvent(ctx, msg.event, msg.data)
  if (!valid.ok) return valid
  if (ctx.hooks.authorize !== undefined) {
    const allowed = await authorize(ctx, connection, { action: 'publish', room: msg.room, event: msg.event })
    if (!allowed.ok) return allowed
  }
  const decided = ctx.hooks.onPublish === undefined ? valid : await decide(ctx, connection, msg, valid.value)
  if (!decided.ok) return decided
  // A hook may have awaited while the member left or the socket closed: publish nothing then.
  const still = requireJoined(ctx, connection, msg.room)
  if (!still.ok) return still
  // Checked here, right before the adapter, not on arrival: nothing is acked after the shutdown notice.
  if (!ctx.isAccepting()) {
    return refused('unavailable', 'the server is shutting down: publish again on the next connection')
  }
  const input: PublishInput = {
    event: msg.event,
    data: decided.value,
    from: connection.id,
    ts: ctx.clock.now(),
  }
  if (msg.id !== undefined) input.id = msg.id
  if (connection.user !== undefined) input.user = connection.user
  if (msg.echo !== true) input.skip = connection.id
  return toAdapter(ctx, connection, msg, input)
}

/** The application's `onPublish`: refuse, replace the data, or publish as is. */
async function decide(
  ctx: HandlerContext,
  connection: Connection,
  msg: PublishMessage,
  data: unknown,
): Promise<Checked<unknown>> {
  const decision = await ctx.hooks.onPublish!({
    connection: connection.info(),
    room: msg.room,
    event: msg.event,
    data,
    id: msg.id,
  })
  if (decision === undefined || decision === null) return { ok: true, value: data }
  if ('error' in decision)
    return refused(decision.error, decision.message ?? 'the server refused this publish')
  if (!('data' in decision)) return { ok: true, value: data }
  // What onPublish returns goes to every member and into history: it obeys the client's bounds. A hook
  // that returns too much is a bug of the app's: this throws, answered `internal` (issue 12).
  checkPayload(decision.data, 'onPublish returned data', ctx.limits)
  return { ok: true, value: decision.data }
}

async function toAdapter(
  ctx: HandlerContext,
  connection: Connection,
  msg: PublishMessage,
  input: PublishInput,
): Promise<Outcome> {
  let pending: ReturnType<typeof ctx.adapter.publish>
  try {
    pending = ctx.adapter.publish(msg.room, input)
  } catch (err) {
    return storeRefusal(err)
  }
  // The memory adapter answers synchronously: no await then, one microtask hop less per publish.
  if (!(pending instanceof Promise)) {
    if (msg.ref !== undefined) connection.sendAck(msg.ref, pending.seq)
    return OK
  }
  ctx.publishes.begin()
  try {
    const result = await pending
    if (msg.ref !== undefined) connection.sendAck(msg.ref, result.seq)
    return OK
  } catch (err) {
    return storeRefusal(err)
  } finally {
    ctx.publishes.end()
  }
}
