import type { Protocol, Ref, RequestInfo, RequestMessage } from '@roomwire/protocol'
import type { Clock, TimerHandle } from './clock'
import { RoomServerError } from './errors'
import type { LogThrottle } from './log-throttle'
import { type Answer, type AnswerContext, answerCode, answerOutput, answerThrow } from './request-answer'
import type { RememberedReply, RequestDedupe } from './request-dedupe'
import type { Owed, OwedAnswers } from './request-owed'
import type { RequestCaller, RequestLimits, RequestMetrics, RequestRunnerDeps } from './request-runner'

/** What every run of a server's request path shares. */
export interface RunShared<C extends RequestCaller> {
  readonly deps: RequestRunnerDeps<C>
  readonly limits: RequestLimits
  readonly clock: Clock
  readonly metrics: RequestMetrics
  readonly dedupe: RequestDedupe
  readonly failureLog: LogThrottle
}

/** The reply frame's text, or why it cannot be written. */
export function replyText(ref: Ref, reply: RememberedReply): string {
  const head = `{"type":"reply","ref":${JSON.stringify(ref)}`
  if ('error' in reply) return `${head},"error":${JSON.stringify(reply.error)}}`
  const output = JSON.stringify(reply.output)
  return output === undefined ? `${head}}` : `${head},"output":${output}}`
}

/**
 * One handler's run, from its start to its one answer: the first of the handler's end, its timeout and
 * its cancel. One object per request holds all of it: it is the answer its caller is owed (request-owed.ts)
 * and judges that answer (AnswerContext), so a request makes no closures of its own (issue 20: a trivial
 * request's round trip was GC-bound). Its AbortController is made only when the handler reads
 * `ctx.signal` (most never do), already aborted then if the run was.
 */
export class HandlerRun<C extends RequestCaller> implements AnswerContext, Owed {
  readonly slot = true
  aborted = false
  /** The timeout, armed only for a handler that returned a promise. */
  timer: TimerHandle | undefined
  readonly #startedAt = performance.now()
  #open = true
  #reason: unknown
  #controller: AbortController | undefined

  constructor(
    private readonly shared: RunShared<C>,
    private readonly answers: OwedAnswers,
    readonly caller: C,
    readonly msg: RequestMessage,
    readonly info: RequestInfo | undefined,
    /** The dedupe key of an idempotent request. */
    private readonly key: string | undefined,
  ) {
    answers.add(this)
  }

  get id(): string {
    return this.msg.id
  }

  /** Its answer was written (or dropped): nothing more happens for it. */
  get answered(): boolean {
    return !this.#open
  }

  get protocol(): Protocol | undefined {
    return this.shared.deps.protocol
  }
  get name(): string {
    return this.msg.name
  }
  get maxMessageBytes(): number {
    return this.shared.limits.maxMessageBytes
  }
  get maxNestingDepth(): number {
    return this.shared.limits.maxNestingDepth
  }

  replyText(reply: RememberedReply): string {
    return replyText(this.msg.ref, reply)
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** The first abort wins, as with an AbortController. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }

  /** Owed: the caller cancelled it (already forgotten by its answers): the signal fires, nothing is written. */
  cancel(): void {
    this.abort(new RoomServerError('cancelled', `request ${this.msg.name} was cancelled by its caller`))
    this.finish({ dropped: 'cancelled' })
  }

  /** Owed: the caller is going away: the signal fires; what the handler answers is dropped. */
  abandon(reason: RoomServerError): void {
    this.abort(reason)
  }

  /** The handler returned (or its promise resolved with) `value`. */
  output(value: unknown): void {
    try {
      this.finish(answerOutput(this, value))
    } catch (err) {
      // Only a bug here (an output that cannot be serialized, a throwing getter) gets this far: it is
      // the app's, answered `internal`, never an uncaught exception or an unhandled rejection.
      this.finish(answerThrow(this, err, false))
    }
  }

  /** The handler threw (or its promise rejected with) `err`. */
  threw(err: unknown): void {
    this.finish(answerThrow(this, err, this.aborted))
  }

  /** Write the answer, once. */
  finish(answer: Answer): void {
    if (!this.#open) return
    this.#open = false
    const { clock, metrics, dedupe, deps } = this.shared
    const { caller, msg, answers } = this
    if (this.timer !== undefined) clock.clearTimeout(this.timer)
    const reply = 'reply' in answer ? answer.reply : undefined
    metrics.finished(msg.name, answerCode(answer), (performance.now() - this.#startedAt) / 1000)
    if (this.key !== undefined) dedupe.end(this.key, reply, clock.now())
    if ('error' in answer && answer.log !== undefined) this.log(answer.log.fields ?? {}, answer.log.text)
    // Written before it is forgotten: a shutdown waiting for the caller's last answer closes it after.
    if (!answers.has(this)) return
    try {
      if (reply !== undefined) caller.sendText('text' in answer ? answer.text : replyText(msg.ref, reply))
      else if ('error' in answer)
        deps.replyError(caller, answer.error.code, answer.error.message, msg.ref, msg.room)
    } finally {
      answers.delete(this)
    }
  }

  /**
   * Log the request's failure with its name and connection id, never its input; throttled like every line
   * a peer can trigger at will (a request whose handler throws, sent 100 times a second).
   */
  private log(fields: Record<string, unknown>, text: string): void {
    try {
      const suppressed = this.shared.failureLog.take(this.shared.clock.now())
      if (suppressed === undefined) return
      const extra = suppressed > 0 ? { suppressed } : {}
      this.caller.log.error(
        { request: this.msg.name, connectionId: this.caller.id, ...fields, ...extra },
        text,
      )
    } catch {
      // A logger that throws must not turn a handled failure into an uncaught one.
    }
  }
}
