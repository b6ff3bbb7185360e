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

/**
 * Consecutive publishes started together at most. With Redis they then leave as one write, the store
 * runs their scripts in one go, and every node gets their frames in one read, so each member's socket
 * takes them in one write (frames.ts, WriteCoalescer) instead of one round trip and one write each.
 */
const MAX_PIPELINED = 64

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
 * message at a time, in order (the queue is `connection.queue`, written only here). A handler's refusal
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

  // Messages of one connection are handled one at a time, in order: a publish right after a join waits for it.
  function enqueue(connection: Connection, msg: ClientMessage): void {
    const queue = connection.queue
    if (queue.running !== undefined) {
      queue.inbox ??= []
      queue.inbox.push(msg)
      return
    }
    // A handler that finishes at once (a publish without hooks on the memory adapter, a ping) is handled
    // right here: no promise, no queue. Only one that awaits makes the queue wait for it.
    const pending = handleNow(connection, msg)
    if (pending !== undefined) queue.running = run(connection, msg, pending)
  }

  /** Handle one message; its outcome is answered here unless it is still to come (then returned). */
  function handleNow(connection: Connection, msg: ClientMessage): Promise<Outcome> | undefined {
    try {
      const outcome = deps.handle(connection, msg)
      if (outcome instanceof Promise) return outcome
      if (!outcome.ok) replyError(connection, outcome.code, outcome.message, msg.ref, roomOf(msg))
    } catch (err) {
      failed(connection, err, msg.type, msg.ref, roomOf(msg))
    }
    return undefined
  }

  /**
   * Start a message answered later, in its turn. Its outcome is a promise that never rejects (a throw
   * becomes `thrown`): it may wait unawaited behind the messages before it.
   */
  function start(connection: Connection, msg: ClientMessage, after: Promise<void>): Promise<Answer> {
    try {
      const outcome = deps.handle(connection, msg, after)
      return outcome instanceof Promise
        ? outcome.catch((thrown: unknown) => ({ thrown }))
        : Promise.resolve(outcome)
    } catch (thrown) {
      return Promise.resolve({ thrown })
    }
  }

  /**
   * The queue while a handler awaits: its outcome, then whatever arrived meanwhile, in order. Messages
   * that pipeline (consecutive publishes on Redis) start as soon as they are seen, up to
   * {@link MAX_PIPELINED}, and are answered one after another as before; any other waits for them all.
   */
  async function run(connection: Connection, first: ClientMessage, outcome: Promise<Outcome>): Promise<void> {
    const queue = connection.queue
    const started: Started[] = [{ msg: first, pending: outcome }]
    try {
      while (started.length > 0) {
        const head = started[0]!
        const inbox = queue.inbox
        if (inbox !== undefined && deps.pipelines(head.msg)) {
          while (started.length < MAX_PIPELINED && inbox.length > 0 && deps.pipelines(inbox[0]!)) {
            const msg = inbox.shift()!
            const tail = started[started.length - 1]!
            const after = new Promise<void>((resolve) => {
              tail.answered = resolve
            })
            started.push({ msg, pending: start(connection, msg, after) })
          }
        }
        started.shift()
        const { msg, pending } = head
        if (pending !== undefined) {
          try {
            const answer = await pending
            if ('thrown' in answer) failed(connection, answer.thrown, msg.type, msg.ref, roomOf(msg))
            else if (!answer.ok) replyError(connection, answer.code, answer.message, msg.ref, roomOf(msg))
          } catch (err) {
            failed(connection, err, msg.type, msg.ref, roomOf(msg))
          }
        }
        head.answered?.()
        const next = started.length === 0 ? queue.inbox?.shift() : undefined
        if (next !== undefined) started.push({ msg: next, pending: handleNow(connection, next) })
      }
    } catch (err) {
      // Only a bug in the guard itself gets here; the queue is released below either way, and nothing
      // started is left waiting for its turn.
      logFailure(connection, err, 'message queue')
      for (const entry of started) entry.answered?.()
    } finally {
      queue.inbox = undefined
      queue.running = undefined
    }
  }

  function onFrame(connection: Connection, raw: Buffer, isBinary: boolean): void {
    let what = 'frame'
    let ref: Ref | undefined
    let room: string | undefined
    try {
      // A connection being closed handles nothing more (a flooder's frames still buffered after its 1008).
      if (connection.closing) return
      const t = now()
      connection.lastSeenAt = t
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

/** A handler's outcome, or what it threw (see `start` in {@link createInbound}). */
type Answer = Outcome | { thrown: unknown }

/** A message the queue started and has not answered yet; `answered` lets the one started after it answer. */
interface Started {
  msg: ClientMessage
  pending: Promise<Answer> | undefined
  answered?: () => void
}

function roomOf(msg: ClientMessage): string | undefined {
  return 'room' in msg ? msg.room : undefined
}
