import {
  type ErrorCode,
  excerpt,
  type Protocol,
  type Ref,
  type RequestInfo,
  type RequestMessage,
} from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { Clock } from './clock'
import { RoomServerError } from './errors'
import { HandlerRun, type RunShared, replyText } from './handler-run'
import { LogThrottle, REFUSAL_LOG_INTERVAL_MS, REFUSAL_LOG_LINES } from './log-throttle'
import type { ConnectionInfo } from './options'
import { RequestDedupe } from './request-dedupe'
import { RequestRefusal } from './request-error'
import { type Owed, OwedAnswers } from './request-owed'
import type { RequestContext, RequestHandler } from './request-types'
import type { RoomServer } from './room-server'

/** What a handler's answer or a guard comes to: done (the reply follows), or refused with an `error` frame. */
export type RequestOutcome = { ok: true } | { ok: false; code: ErrorCode; message: string }

/** The calling connection, as far as requests need it. */
export interface RequestCaller {
  readonly id: string
  readonly user: string | undefined
  readonly log: Logger
  info(): ConnectionInfo
  /** Write one serialized frame (nothing happens once the connection is closing). */
  sendText(text: string): void
}

/** Per-request-name metrics: count, errors by code, duration. */
export interface RequestMetrics {
  /**
   * The request was answered: `code` is undefined for an `output`, else the refusal's code (`aborted`
   * when its caller went away first, `cancelled` when it cancelled it); `seconds` is the handler's time,
   * undefined when it never ran.
   */
  finished(name: string, code: string | undefined, seconds?: number): void
}

/** The bounds of the request path. */
export interface RequestLimits {
  /** Requests a connection may have being handled at once. */
  readonly maxRequestsInFlight: number
  /** A handler runs at most this long; then its signal fires and the caller gets `timeout`. */
  readonly requestTimeoutMs: number
  readonly maxMessageBytes: number
  readonly maxNestingDepth: number
  /** Replies of idempotent requests remembered (0: none), and for how long. */
  readonly requestDedupeEntries: number
  readonly requestDedupeMs: number
}

export interface RequestRunnerDeps<C extends RequestCaller> {
  readonly protocol: Protocol | undefined
  readonly handlers: Readonly<Record<string, RequestHandler>> | undefined
  readonly limits: RequestLimits
  readonly clock: Clock
  readonly metrics: RequestMetrics
  /** The server API handed to handlers (resolved at the first request: the server is built after this). */
  server(): RoomServer
  /** Whether the caller has joined `room` (a room request needs it). */
  isJoined(caller: C, room: string): boolean
  /** Whether the server is shutting down: new requests are refused with `unavailable`. */
  isClosing(): boolean
  /** Answer the request with an `error` frame carrying its `ref` (and `room`), counted like every refusal. */
  replyError(caller: C, code: ErrorCode, message: string, ref: Ref, room?: string): void
}

/** The request path: guards, then the handler run beside the caller's other messages. */
export interface RequestRunner<C extends RequestCaller> {
  /**
   * Check a request and start its handler. A refusal found before the handler runs is returned (the
   * caller answers it with an `error` frame); otherwise the answer is written when the handler ends,
   * and the connection's next messages need not wait for it.
   */
  start(caller: C, msg: RequestMessage): RequestOutcome
  /**
   * The caller cancelled its requests with this id (a `cancel` frame): their handlers' signals fire, their
   * slots are free, and nothing is written for them. Nothing happens for an id that names none.
   */
  cancel(caller: C, id: string): void
  /**
   * The caller is going away (its connection closed, or shutdown's deadline passed): its handlers'
   * signals fire with `reason`, their answers are dropped.
   */
  closed(caller: C, reason?: RoomServerError): void
  /** Requests of this caller being handled: its in-flight slots taken (for tests and bounds). */
  inFlight(caller: C): number
  /** Answers this caller is still owed: its requests being handled, and resends waiting for a first run. */
  owed(caller: C): number
  /** Resolves once this caller is owed no answer: the last one was written, or given up. */
  answered(caller: C): Promise<void>
}

type Refused = Extract<RequestOutcome, { ok: false }>
const refused = (code: ErrorCode, message: string): Refused => ({ ok: false, code, message })
const DONE: RequestOutcome = { ok: true }
/** The answer to an idempotent request's resend when the run it waited for failed. */
const FIRST_RUN_FAILED = 'the first run of this request failed: send it again'

/** Whether a handler's result is to be awaited: a promise, or any thenable, as `await` would treat it. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * What a handler sees of its run: one object with its getters on the prototype, so a request makes no
 * closures for it (issue 17; an object literal with getters made three per request). The connection's
 * info is made when the handler first reads it. Typed per request where the handler sees it; here the
 * room is a string for room requests only.
 */
class HandlerContext<C extends RequestCaller> implements RequestContext<Protocol, string> {
  readonly room: string
  readonly id: string
  readonly #run: HandlerRun<C>
  readonly #deps: RequestRunnerDeps<C>
  #connection: ConnectionInfo | undefined

  constructor(run: HandlerRun<C>, deps: RequestRunnerDeps<C>) {
    this.#run = run
    this.#deps = deps
    this.room = run.msg.room as string
    this.id = run.msg.id
  }

  get connection(): ConnectionInfo {
    this.#connection ??= this.#run.caller.info()
    return this.#connection
  }
  get server(): RoomServer {
    return this.#deps.server()
  }
  get signal(): AbortSignal {
    return this.#run.signal
  }
  refuse(code: string, message: string): RequestRefusal<string> {
    return new RequestRefusal(code, message)
  }
}

/**
 * The handler of a request name. Own keys only: a request named `constructor` must not find
 * Object.prototype's members.
 */
function handlerFor(
  handlers: Readonly<Record<string, RequestHandler>> | undefined,
  name: string,
): RequestHandler | undefined {
  return handlers !== undefined && Object.hasOwn(handlers, name) ? handlers[name] : undefined
}

/** The request's checked input, or why it is refused before its handler runs (`slots`: the caller's used). */
function guard<C extends RequestCaller>(
  deps: RequestRunnerDeps<C>,
  slots: number,
  caller: C,
  msg: RequestMessage,
  info: RequestInfo | undefined,
): { ok: true; input: unknown } | Refused {
  const { protocol, limits } = deps
  const validation = protocol?.validateRequestInput(msg.name, msg.input)
  if (validation !== undefined && !validation.success)
    return refused('invalid_event', validation.error.message)
  if (handlerFor(deps.handlers, msg.name) === undefined) {
    // Declared but unhandled is the server's fault (no handlers given), not the caller's.
    if (info !== undefined) return refused('internal', `this server has no handler for request ${msg.name}`)
    return refused('invalid_event', `name: this server handles no request ${excerpt(msg.name)}`)
  }
  if (info?.room === true && msg.room === undefined) {
    return refused('invalid_event', `room: ${msg.name} is a room request: name the room it is for`)
  }
  if (info?.room === false && msg.room !== undefined) {
    return refused('invalid_event', `room: ${msg.name} is not a room request: send it without a room`)
  }
  if (msg.room !== undefined && !deps.isJoined(caller, msg.room)) {
    return refused('not_joined', `room: this connection has not joined "${msg.room}"`)
  }
  if (deps.isClosing())
    return refused('unavailable', 'the server is shutting down: send it again on the next connection')
  if (slots >= limits.maxRequestsInFlight) {
    return refused(
      'too_many_requests',
      `this connection already has ${limits.maxRequestsInFlight} requests being handled, the limit; send it again once one is answered`,
    )
  }
  return { ok: true, input: validation === undefined ? msg.input : validation.data }
}

/**
 * Create the request path of a server. Every handler runs with an abort signal (fired by its timeout or
 * its caller's close) inside a guard: what it throws is answered `internal` and logged with the request's
 * name and connection id, never with its input and never with the exception's text on the wire.
 */
export function createRequestRunner<C extends RequestCaller>(deps: RequestRunnerDeps<C>): RequestRunner<C> {
  const { protocol, handlers, limits, clock, metrics } = deps
  const running = new WeakMap<C, OwedAnswers>()
  const dedupe = new RequestDedupe(limits.requestDedupeEntries, limits.requestDedupeMs)
  const failureLog = new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS)
  const shared: RunShared<C> = { deps, limits, clock, metrics, dedupe, failureLog }

  function answersOf(caller: C): OwedAnswers {
    let answers = running.get(caller)
    if (answers === undefined) {
      answers = new OwedAnswers()
      running.set(caller, answers)
    }
    return answers
  }

  function start(caller: C, msg: RequestMessage): RequestOutcome {
    const info = protocol?.requestInfo(msg.name)
    const checked = guard(deps, running.get(caller)?.slots ?? 0, caller, msg, info)
    if (!checked.ok) {
      metrics.finished(msg.name, checked.code)
      return checked
    }
    if (info?.idempotent !== true) {
      run(caller, msg, info, checked.input, undefined)
      return DONE
    }
    const key = JSON.stringify([msg.name, msg.id, caller.user ?? null])
    const remembered = dedupe.get(key, clock.now())
    if (remembered !== undefined) {
      caller.sendText(replyText(msg.ref, remembered))
      return DONE
    }
    // A resend waiting for the first run is owed its answer too (a shutdown waits for it), but holds no
    // slot; cancelled, it is answered nothing, and the first run goes on for whoever started it.
    const answers = answersOf(caller)
    const waiter: Owed = { id: msg.id, slot: false, cancel: () => {}, abandon: () => {} }
    const waiting = dedupe.join(key, (reply) => {
      if (!answers.has(waiter)) return
      try {
        if (reply !== undefined) caller.sendText(replyText(msg.ref, reply))
        else deps.replyError(caller, 'unavailable', FIRST_RUN_FAILED, msg.ref, msg.room)
      } finally {
        answers.delete(waiter)
      }
    })
    if (waiting) answers.add(waiter)
    else {
      dedupe.begin(key)
      run(caller, msg, info, checked.input, key)
    }
    return DONE
  }

  function run(
    caller: C,
    msg: RequestMessage,
    info: RequestInfo | undefined,
    input: unknown,
    key: string | undefined,
  ): void {
    const handler = handlerFor(handlers, msg.name) as RequestHandler
    const call = new HandlerRun(shared, answersOf(caller), caller, msg, info, key)
    const ctx = new HandlerContext(call, deps)
    let result: unknown
    try {
      result = handler(input, ctx)
      // A handler that answers at once (a plain value, not a promise) is answered right here: no timer,
      // no promise, no abort signal unless it asked for one (issue 20: the request round trip's cost).
      if (!isThenable(result)) {
        call.output(result)
        return
      }
    } catch (err) {
      call.threw(err)
      return
    }
    // A handler cancelled during its synchronous part is answered already: it needs no timeout.
    if (call.answered) return
    call.timer = clock.setTimeout(() => {
      call.abort(new RoomServerError('closed', `request ${msg.name} timed out`))
      const message = `${msg.name}: the handler did not finish within ${limits.requestTimeoutMs} ms`
      call.finish({ error: { code: 'timeout', message } })
    }, limits.requestTimeoutMs)
    new Promise<unknown>((resolve) => resolve(result)).then(
      (output) => call.output(output),
      (err: unknown) => call.threw(err),
    )
  }

  function closed(caller: C, reason?: RoomServerError): void {
    const answers = running.get(caller)
    if (answers === undefined) return
    running.delete(caller)
    // Made only when a request is running: an Error's stack trace was 15 µs of every connection's close.
    answers.abandon(reason ?? new RoomServerError('closed', 'the caller went away'))
  }

  return {
    start,
    cancel: (caller, id) => running.get(caller)?.cancel(id),
    closed,
    inFlight: (caller) => running.get(caller)?.slots ?? 0,
    owed: (caller) => running.get(caller)?.size ?? 0,
    answered: (caller) => running.get(caller)?.idle() ?? Promise.resolve(),
  }
}

/**
 * Refuse at start a handler no request could reach: one for a name the protocol does not declare (a typo
 * would otherwise show only as every caller's `invalid_event`), or one that is not a function.
 */
export function checkHandlers(
  handlers: Readonly<Record<string, unknown>> | undefined,
  protocol: Protocol | undefined,
): void {
  if (handlers === undefined) return
  const declared = protocol?.requests === undefined ? undefined : Object.keys(protocol.requests)
  for (const [name, handler] of Object.entries(handlers)) {
    if (typeof handler !== 'function') {
      throw new RoomServerError(
        'invalid_config',
        `handlers.${name} is ${typeof handler}; expected a function`,
      )
    }
    if (declared !== undefined && !declared.includes(name)) {
      const known = declared.length === 0 ? 'none' : declared.join(', ')
      throw new RoomServerError(
        'invalid_config',
        `handlers.${name}: the protocol declares no request "${name}" (it declares: ${known})`,
      )
    }
  }
  // The types ask for every declared request's handler; a plain-JS app learns of a missing one here.
  const missing = declared?.filter((name) => typeof handlers[name] !== 'function') ?? []
  if (missing.length > 0) {
    throw new RoomServerError(
      'invalid_config',
      `handlers: no handler for ${missing.map((name) => `"${name}"`).join(', ')}, which the protocol declares`,
    )
  }
}
