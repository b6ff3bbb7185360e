import {
  type ClientMessage,
  type DecodeOptions,
  decodeClientMessage,
  type ErrorCode,
  type ErrorMessage,
  type Ref,
} from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { Connection } from './connection'
import type { Outcome } from './handlers'
import type { ResolvedLimits } from './limits'
import { LogThrottle, REFUSAL_LOG_INTERVAL_MS, REFUSAL_LOG_LINES } from './log-throttle'
import { createMessageQueue } from './message-queue'
import { countIn, errorCodeLabel, type ServerMetrics } from './metrics'

/** What the inbound path needs from its server. */
export interface InboundDeps {
  readonly limits: ResolvedLimits
  readonly metrics: ServerMetrics
  readonly now: () => number
  readonly log: Logger
  /** Handle one decoded message: a refusal is an outcome, answered here; a throw is a bug. */
  handle(connection: Connection, msg: ClientMessage, after?: Promise<void>): Outcome | Promise<Outcome>
  /**
   * Whether `msg` may start while the messages before it still await, when they may too: a publish that
   * reaches the adapter without awaiting anything, on an adapter that orders publishes as they are called
   * (RoomAdapter.publishesInOrder). Its seq, ack and refusal still come in the order sent.
   */
  pipelines(msg: ClientMessage): boolean
}

/** The path of every client frame, from the socket to the handlers. */
export interface Inbound {
  /** One frame off a connection's socket. Never throws. */
  onFrame(connection: Connection, raw: Buffer, isBinary: boolean): void
  /**
   * Answer a client message with `error` later, outside its frame's turn (a request whose handler timed
   * out or threw), carrying its `ref` and `room`, counted by code. Never throws.
   */
  replyError(connection: Connection, code: ErrorCode, message: string, ref?: Ref, room?: string): void
}

/** Messages one connection may have waiting beyond its burst before it is closed with 1008. */
const QUEUE_SLACK = 1000

const BINARY_REFUSAL = 'binary frames are not supported: send JSON text frames'

/** How the inbound path answers: the one place an `error` frame is made, and failures logged (throttled). */
function createReplies(metrics: ServerMetrics, now: () => number) {
  const failureLog = new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS)

  /** Answer a client message with `error`, carrying its `ref` and `room`, counted by code. Never throws. */
  function replyError(
    connection: Connection,
    code: ErrorCode,
    message: string,
    ref?: Ref,
    room?: string,
  ): void {
    try {
      const frame: ErrorMessage = { type: 'error', code, message }
      if (ref !== undefined) frame.ref = ref
      if (room !== undefined) frame.room = room
      metrics.errors.inc({ code: errorCodeLabel(code) })
      connection.send(frame)
    } catch (err) {
      // Sending failed too (a bug in the send path): log it; the frame gets no answer, nothing else changes.
      logFailure(connection, err, 'error reply')
    }
  }

  function logFailure(connection: Connection, err: unknown, what: string): void {
    try {
      const suppressed = failureLog.take(now())
      if (suppressed === undefined) return
      const fields = suppressed > 0 ? { err, what, suppressed } : { err, what }
      connection.log.error(fields, 'frame handling failed')
    } catch {
      // A logger that throws must not turn a handled failure into an uncaught one.
    }
  }

  /** A frame's handling threw: answer `internal`, log and count it once. */
  function failed(connection: Connection, err: unknown, what: string, ref?: Ref, room?: string): void {
    try {
      metrics.frameFailures.inc()
    } catch {}
    logFailure(connection, err, what)
    replyError(connection, 'internal', `the server failed to handle this ${what}`, ref, room)
  }

  return { replyError, failed, logFailure }
}

/**
 * The inbound path: each frame is charged to the connection's byte budget (before it is parsed), decoded
 * within the nesting bound, charged to its message budget (`ping` included), and handed to the handlers one
 * message at a time, in order (message-queue.ts, the only writer of `connection.queue`). A handler's refusal
 * comes back as an outcome and is answered by `replyError`, the one place an `error` frame is made.
 * Every frame runs inside a guard: whatever throws while it is handled (decoding, a handler, a hook called
 * from one, sending the reply) answers that frame `internal` with its `ref` and `room`, is logged and counted
 * once, and nothing else notices. No path leads from a peer's frame to `uncaughtException` or
 * `unhandledRejection` (issue 12: one frame nesting 4,110 levels in `type` killed the process).
 */
export function createInbound(deps: InboundDeps): Inbound {
  const { limits, metrics, now } = deps
  const traffic = metrics.traffic
  const decodeOptions: DecodeOptions = { maxDepth: limits.maxNestingDepth }
  const { replyError, failed, logFailure } = createReplies(metrics, now)
  const floodLog = new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS)
  const messagesLimited = metrics.rateLimited.labels('messages')
  const bytesLimited = metrics.rateLimited.labels('bytes')
  const queueLimit = limits.rateLimitBurst + QUEUE_SLACK
  const messageLimitText = `rate limit of ${limits.rateLimitPerSec} messages per second exceeded`

  /** A frame overdrew a budget: refuse it, or close the connection when it keeps doing so (1008). */
  function refuse(
    connection: Connection,
    t: number,
    bytes: number,
    budget: 'messages' | 'bytes',
    message: string,
    ref?: Ref,
    room?: string,
  ): void {
    if (connection.budget.refused(t, bytes)) {
      const suppressed = floodLog.take(t)
      if (suppressed !== undefined) {
        connection.log.warn(suppressed > 0 ? { suppressed } : {}, 'rate limit exceeded persistently')
      }
      connection.close(1008, 'rate limit exceeded persistently')
      // Read nothing more from a flooder: what it already sent would still be unmasked and checked, frame
      // by frame, until the close times out. TCP backpressure stops it instead.
      connection.ws.pause()
      return
    }
    ;(budget === 'messages' ? messagesLimited : bytesLimited).inc()
    replyError(connection, 'rate_limited', message, ref, room)
  }

  /** Take one message from the connection's message budget; false (and the refusal sent) when empty. */
  function admit(connection: Connection, t: number, bytes: number, ref?: Ref, room?: string): boolean {
    if (connection.budget.takeMessage(t)) return true
    refuse(connection, t, bytes, 'messages', messageLimitText, ref, room)
    return false
  }

  const enqueue = createMessageQueue(deps, { replyError, failed, logFailure })

  function onFrame(connection: Connection, raw: Buffer, isBinary: boolean): void {
    let what = 'frame'
    let ref: Ref | undefined
    let room: string | undefined
    try {
      // A connection being closed handles nothing more (a flooder's frames still buffered after its 1008).
      if (connection.closing) return
      const t = now()
      connection.sawFrame(t)
      traffic.bytesIn += raw.length
      // The byte budget is charged before the frame is read at all: a frame past it costs no parsing (60 KB
      // pings used to be parsed however fast they came). It carries no ref then, as it was never parsed.
      if (!connection.budget.takeBytes(t, raw.length)) {
        const text = `byte budget of ${limits.rateLimitBytesPerSec} bytes per second exceeded (this frame: ${raw.length} bytes)`
        refuse(connection, t, raw.length, 'bytes', text)
        return
      }
      if (isBinary) {
        countIn(traffic, 'binary')
        if (admit(connection, t, raw.length)) replyError(connection, 'bad_request', BINARY_REFUSAL)
        return
      }
      const result = decodeClientMessage(raw, decodeOptions)
      if (!result.success) {
        countIn(traffic, 'invalid')
        const { code, message } = result.error
        ref = result.error.ref
        room = result.error.room
        if (admit(connection, t, raw.length, ref, room)) replyError(connection, code, message, ref, room)
        return
      }
      const msg = result.data
      what = msg.type
      ref = msg.ref
      room = 'room' in msg ? msg.room : undefined
      countIn(traffic, msg.type)
      if (!admit(connection, t, raw.length, ref, room)) return
      // A connection whose handlers stall is bounded here too: its queue never outgrows the burst by much.
      if ((connection.queue.inbox?.length ?? 0) > queueLimit) {
        connection.close(1008, 'too many messages waiting')
        return
      }
      enqueue(connection, msg)
    } catch (err) {
      failed(connection, err, what, ref, room)
    }
  }

  return { onFrame, replyError }
}
