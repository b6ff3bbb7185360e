import { type ErrorCode, excerpt, nestsDeeperThan, type Protocol, type RequestInfo } from '@roomwire/protocol'
import { isRoomServerError } from './errors'
import type { RememberedReply } from './request-dedupe'
import { isRequestError, isRequestRefusal } from './request-error'

/**
 * What a handler's end comes to on the wire: a `reply` (its output, or its declared refusal), an `error`
 * frame, or nothing (`aborted`: its caller is gone or its timeout was answered; `cancelled`: its caller
 * cancelled it). `log` is what the server logs about it: a bug of the app's, worded without the input or
 * the output.
 */
export type Answer =
  | { reply: RememberedReply; text?: string }
  | { error: { code: ErrorCode; message: string }; log?: { text: string; fields?: Record<string, unknown> } }
  | { dropped: 'aborted' | 'cancelled' }

/** The code an answer is counted under: none for an output, else its refusal's code or why it was dropped. */
export function answerCode(answer: Answer): string | undefined {
  if ('reply' in answer) return 'error' in answer.reply ? answer.reply.error.code : undefined
  return 'error' in answer ? answer.error.code : answer.dropped
}

/** What judging an answer needs to know about its request. */
export interface AnswerContext {
  readonly protocol: Protocol | undefined
  readonly info: RequestInfo | undefined
  readonly name: string
  readonly maxMessageBytes: number
  readonly maxNestingDepth: number
  /** The reply's text around an output, to measure it against the frame limit. */
  replyText(reply: RememberedReply): string
}

const CODE_PATTERN = /^[A-Za-z0-9_\-.:]{1,64}$/

function internal(ctx: AnswerContext, text: string, fields?: Record<string, unknown>): Answer {
  const error = { code: 'internal' as const, message: `the server failed to handle this ${ctx.name} request` }
  return { error, log: fields === undefined ? { text } : { text, fields } }
}

/** A handler's refusal: in a `reply` when its request declares the code, else `internal` (and logged). */
function refusal(ctx: AnswerContext, code: unknown, message: unknown): Answer {
  const declared =
    typeof code === 'string' &&
    CODE_PATTERN.test(code) &&
    (ctx.info === undefined ? ctx.protocol?.requests === undefined : ctx.info.errors.has(code))
  if (declared) return { reply: { error: { code, message: String(message).slice(0, 300) } } }
  return internal(ctx, 'a request handler refused with a code its request does not declare', {
    code: excerpt(code),
  })
}

/** What a handler's returned value comes to: its validated output, a refusal, or `internal`/`too_large`. */
export function answerOutput(ctx: AnswerContext, output: unknown): Answer {
  if (isRequestRefusal(output)) return refusal(ctx, output.code, output.message)
  const checked = ctx.protocol?.validateRequestOutput(ctx.name, output)
  if (checked !== undefined && !checked.success) {
    return internal(ctx, 'a request handler returned an output its schema refuses', {
      issue: checked.error.message,
    })
  }
  const data = checked === undefined ? output : checked.data
  // Measured before it is serialized: a value nesting thousands of levels (or a cycle) would blow the stack.
  if (nestsDeeperThan(data, ctx.maxNestingDepth)) {
    return internal(ctx, `a request handler returned an output nesting over ${ctx.maxNestingDepth} levels`)
  }
  const reply = { output: data }
  // Serialized once: measured here, and written as it is.
  const text = ctx.replyText(reply)
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: a reply that short needs no count (issue 17).
  const bytes = text.length * 3 <= ctx.maxMessageBytes ? 0 : Buffer.byteLength(text)
  if (bytes > ctx.maxMessageBytes) {
    const message = `${ctx.name}: the reply is ${bytes} bytes, over the limit of ${ctx.maxMessageBytes}`
    return { error: { code: 'too_large', message } }
  }
  return { reply, text }
}

/**
 * What a handler's throw comes to: a declared refusal, `unavailable` (a store down, or the server shutting
 * down), nothing (aborted), or `internal`.
 */
export function answerThrow(ctx: AnswerContext, err: unknown, aborted: boolean): Answer {
  if (isRequestError(err)) return refusal(ctx, err.code, err.message)
  // A handler that stopped because its signal fired: its caller is gone, or its timeout was answered.
  if (aborted) return { dropped: 'aborted' }
  // `closed`: the server API refuses from the moment a shutdown starts, while the handler may still finish
  // (its reply is written before the close). Like a store that is down: try again on the next connection.
  if (isRoomServerError(err) && (err.code === 'unavailable' || err.code === 'closed')) {
    return { error: { code: 'unavailable', message: `${ctx.name}: ${err.message}` } }
  }
  return internal(ctx, 'a request handler threw', { err })
}
