import type { PublishMessage } from '@roomwire/protocol'
import type { PublishInput } from '../adapter'
import type { Connection } from '../connection'
import { checkPayload } from '../server-input'
import type { Handler, HandlerContext } from './context'
import { authorize, requireJoined, validateEvent } from './guards'
import { type Checked, OK, type Outcome, refused, storeRefusal } from './outcome'

/**
 * `publish`: validated, authorized and passed through `onPublish`, then handed to the adapter, which gives
 * it its seq and fans it out (AdapterNode.deliver); the publisher gets an `ack` with the seq. Without
 * hooks and with an adapter that answers at once (the memory adapter) nothing awaits: no promise is made
 * for the message at all (the echo benchmark's round trip, issue 20).
 */
export const publish: Handler<PublishMessage> = (ctx, connection, msg, after) => {
  const joined = requireJoined(ctx, connection, msg.room)
  if (!joined.ok) return joined
  const valid = validateEvent(ctx, msg.event, msg.data)
  if (!valid.ok) return valid
  if (ctx.hooks.authorize !== undefined || ctx.hooks.onPublish !== undefined) {
    return hooked(ctx, connection, msg, valid.value)
  }
  return accepted(ctx, connection, msg, valid.value, after)
}

/** A publish through the application's `authorize` and `onPublish` hooks. */
async function hooked(
  ctx: HandlerContext,
  connection: Connection,
  msg: PublishMessage,
  data: unknown,
): Promise<Outcome> {
  if (ctx.hooks.authorize !== undefined) {
    const allowed = await authorize(ctx, connection, { action: 'publish', room: msg.room, event: msg.event })
    if (!allowed.ok) return allowed
  }
  const decided =
    ctx.hooks.onPublish === undefined
      ? { ok: true as const, value: data }
      : await decide(ctx, connection, msg, data)
  if (!decided.ok) return decided
  // A hook may have awaited while the member left or the socket closed: publish nothing then.
  const still = requireJoined(ctx, connection, msg.room)
  if (!still.ok) return still
  return accepted(ctx, connection, msg, decided.value)
}

/** A publish allowed and with its final data: to the adapter, unless the server stopped accepting. */
function accepted(
  ctx: HandlerContext,
  connection: Connection,
  msg: PublishMessage,
  data: unknown,
  after?: Promise<void>,
): Outcome | Promise<Outcome> {
  // Checked here, right before the adapter, not on arrival: nothing is acked after the shutdown notice.
  if (!ctx.isAccepting()) {
    return refused('unavailable', 'the server is shutting down: publish again on the next connection')
  }
  const input: PublishInput = {
    event: msg.event,
    data,
    from: connection.id,
    ts: ctx.clock.now(),
  }
  if (msg.id !== undefined) input.id = msg.id
  if (connection.user !== undefined) input.user = connection.user
  if (msg.echo !== true) input.skip = connection.id
  return toAdapter(ctx, connection, msg, input, after)
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

function toAdapter(
  ctx: HandlerContext,
  connection: Connection,
  msg: PublishMessage,
  input: PublishInput,
  after: Promise<void> | undefined,
): Outcome | Promise<Outcome> {
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
  return stored(ctx, connection, msg, pending, after)
}

/** Wait for an adapter that answers later (Redis), counted as in flight for a graceful shutdown. */
async function stored(
  ctx: HandlerContext,
  connection: Connection,
  msg: PublishMessage,
  pending: Promise<{ seq: number }>,
  after: Promise<void> | undefined,
): Promise<Outcome> {
  ctx.publishes.begin()
  try {
    const result = await pending
    // Started before the publishes ahead of it were answered: its ack comes after their answers.
    if (after !== undefined) await after
    if (msg.ref !== undefined) connection.sendAck(msg.ref, result.seq)
    return OK
  } catch (err) {
    return storeRefusal(err)
  } finally {
    ctx.publishes.end()
  }
}
