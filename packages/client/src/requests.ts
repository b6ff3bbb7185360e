import type { ErrorMessage, Limits, Protocol, ReplyMessage, RequestInput } from '@roomwire/protocol'
import { type Clock, cancelTimer, type TimerHandle } from './clock'
import { RoomwireError, tooLarge } from './errors'
import { utf8Length } from './utf8'

/** Options of `client.request()` and `room.request()`. */
export interface RequestOptions {
  /**
   * Reject with `timeout` when no answer came this long after the call, time spent waiting for a
   * connection (or the room's join) included. A request already sent is cancelled on the server then.
   * @default the client's requestTimeoutMs
   */
  timeoutMs?: number
  /**
   * Stop waiting: the request rejects with `aborted`. A request already sent is cancelled on the server
   * (a `cancel` frame: its handler's signal fires); an answer that crossed the cancel is dropped.
   */
  signal?: AbortSignal
  /**
   * While the client is not connected: `wait` for the connection within the timeout, or `fail` at once
   * with `disconnected`.
   * @default 'wait'
   */
  whenOffline?: 'wait' | 'fail'
}

/**
 * The arguments of a request call after its name: `input` may be left out when the request takes none
 * (`input: z.void()`), and `options` follow it.
 */
export type RequestArgs<P extends Protocol, K extends string> =
  undefined extends RequestInput<P, K>
    ? [input?: RequestInput<P, K>, options?: RequestOptions]
    : [input: RequestInput<P, K>, options?: RequestOptions]

/** What the request machinery needs from its client. */
export interface RequestEnv {
  readonly clock: Clock
  readonly protocol: Protocol | undefined
  /** Default of {@link RequestOptions.timeoutMs}. */
  readonly timeoutMs: number
  /** A request id unique across clients and reconnects (the server dedupes idempotent requests on it). */
  newId(): string
  /** The current connection got its `welcome`. */
  isOpen(): boolean
  /**
   * A room request may go: true when the room is joined on the current connection, false while it is
   * joining, or why it never will (the room was left or refused for good).
   */
  isJoined(room: string): boolean | RoomwireError
  limits(): Limits | null
  /** Write one frame to the open socket; false when none is open. */
  write(frame: string): boolean
  /** The jittered wait before retry `attempt` (0-based) of a request refused with "nothing ran". */
  retryDelay(attempt: number): number
}

interface Entry {
  readonly name: string
  readonly room: string | undefined
  readonly id: string
  /** The input as JSON, or undefined when the caller passed none. */
  readonly inputJson: string | undefined
  readonly idempotent: boolean
  readonly failOffline: boolean
  /** The ref of the send waiting for its answer; null while not sent. */
  ref: string | null
  /** Retries after refusals that say nothing ran. */
  retries: number
  timer: TimerHandle | null
  retryTimer: TimerHandle | null
  detach: (() => void) | null
  resolve(value: unknown): void
  reject(error: RoomwireError): void
}

/** Refusals that say nothing ran (PROTOCOL.md, "Requests"): any request may be sent again after a backoff. */
const NOTHING_RAN = new Set(['rate_limited', 'too_many_requests'])

/**
 * The client's requests, from the call to their one answer: validated before sending and after
 * receiving, held while offline (or until their room is joined) within their timeout, never more than
 * the server's `maxRequestsInFlight` at once, and never sent twice unless declared idempotent. Refs are
 * strings (`q1`, `q2`, …) so they never meet the numeric refs of the client's other messages.
 */
export class Requests {
  readonly #env: RequestEnv
  /** Requests not sent yet (or to be sent again), oldest first. */
  #waiting: Entry[] = []
  readonly #sent = new Map<string, Entry>()
  #nextRef = 1

  constructor(env: RequestEnv) {
    this.#env = env
  }

  /** Requests waiting or in flight (for leak tests). */
  get size(): number {
    return this.#waiting.length + this.#sent.size
  }

  /** Call request `name`; resolves to its validated output, rejects with a {@link RoomwireError}. */
  call(
    name: string,
    input: unknown,
    room: string | undefined,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const env = this.#env
    return new Promise((resolve, reject) => {
      const refused = this.#check(name, input, room, options)
      if (refused instanceof RoomwireError) return reject(refused)
      const entry: Entry = {
        name,
        room,
        id: env.newId(),
        inputJson: refused,
        idempotent: env.protocol?.requestInfo(name)?.idempotent === true,
        failOffline: options.whenOffline === 'fail',
        ref: null,
        retries: 0,
        timer: null,
        retryTimer: null,
        detach: null,
        resolve,
        reject,
      }
      const timeoutMs = options.timeoutMs ?? env.timeoutMs
      entry.timer = env.clock.setTimeout(() => {
        entry.timer = null
        this.#cancel(entry)
        this.#settle(entry, new RoomwireError('timeout', `${name}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      const signal = options.signal
      if (signal !== undefined) {
        const onAbort = () => {
          this.#cancel(entry)
          this.#settle(
            entry,
            new RoomwireError('aborted', `${name}: the caller aborted`, { cause: signal.reason }),
          )
        }
        signal.addEventListener('abort', onAbort, { once: true })
        entry.detach = () => signal.removeEventListener('abort', onAbort)
      }
      this.#waiting.push(entry)
      this.flush()
    })
  }

  /** Why a call cannot start, or its input as JSON (undefined for none). */
  #check(
    name: string,
    input: unknown,
    room: string | undefined,
    options: RequestOptions,
  ): RoomwireError | string | undefined {
    if (options.signal?.aborted === true) {
      return new RoomwireError('aborted', `${name}: the caller aborted`, { cause: options.signal.reason })
    }
    const protocol = this.#env.protocol
    if (protocol !== undefined) {
      const validation = protocol.validateRequestInput(name, input)
      if (!validation.success) return new RoomwireError('invalid_event', validation.error.message)
      const perRoom = protocol.requestInfo(name)?.room
      if (perRoom === true && room === undefined) {
        return new RoomwireError('invalid_event', `${name} is a room request: call it as room.request()`)
      }
      if (perRoom === false && room !== undefined) {
        return new RoomwireError(
          'invalid_event',
          `${name} is not a room request: call it as client.request()`,
        )
      }
    }
    if (options.whenOffline === 'fail' && !this.#env.isOpen()) {
      return new RoomwireError('disconnected', `${name}: the client is not connected`)
    }
    if (input === undefined) return undefined
    try {
      return JSON.stringify(input)
    } catch (cause) {
      return new RoomwireError('bad_request', `${name}: input is not serializable as JSON`, { cause })
    }
  }

  /** Send what waits and may go now: the connection opened, a room got joined, an answer freed a slot. */
  flush(): void {
    const env = this.#env
    if (!env.isOpen() || this.#waiting.length === 0) return
    const cap = env.limits()?.maxRequestsInFlight ?? Number.POSITIVE_INFINITY
    const still: Entry[] = []
    for (const entry of this.#waiting) {
      const joined = entry.room === undefined || env.isJoined(entry.room)
      if (joined instanceof RoomwireError) this.#settle(entry, joined, undefined, false)
      else if (!joined || entry.retryTimer !== null || this.#sent.size >= cap || !this.#send(entry))
        still.push(entry)
    }
    this.#waiting = still
  }

  /** Write one request; false when it stays waiting (no socket after all). Settles it when it cannot go. */
  #send(entry: Entry): boolean {
    const ref = `q${this.#nextRef++}`
    let frame = `{"type":"request","name":${JSON.stringify(entry.name)}`
    if (entry.inputJson !== undefined) frame += `,"input":${entry.inputJson}`
    if (entry.room !== undefined) frame += `,"room":${JSON.stringify(entry.room)}`
    frame += `,"id":${JSON.stringify(entry.id)},"ref":"${ref}"}`
    const max = this.#env.limits()?.maxMessageBytes
    if (max !== undefined) {
      const bytes = utf8Length(frame)
      if (bytes > max) {
        // Settled here, not sent: a frame over the limit would be closed with 1009.
        this.#settle(entry, tooLarge(bytes, max), undefined, false)
        return true
      }
    }
    // Tracked before writing: an in-process transport may answer inside write().
    entry.ref = ref
    this.#sent.set(ref, entry)
    if (this.#env.write(frame)) return true
    this.#sent.delete(ref)
    entry.ref = null
    return false
  }

  /**
   * The caller stopped waiting for a request sent on the current connection: ask the server to stop its
   * handler and free its slot (PROTOCOL.md, "Requests"). Written before the request is settled, so it
   * reaches the server before the request the freed slot lets go next. An answer already on its way
   * finds no ref and is dropped.
   */
  #cancel(entry: Entry): void {
    if (entry.ref !== null) this.#env.write(`{"type":"cancel","id":${JSON.stringify(entry.id)}}`)
  }

  /** A `reply` frame; false when its ref is none of ours (a late answer to a request given up on). */
  receive(reply: ReplyMessage): boolean {
    const entry = typeof reply.ref === 'string' ? this.#sent.get(reply.ref) : undefined
    if (entry === undefined) return false
    const protocol = this.#env.protocol
    if (reply.error !== undefined) {
      const declared = protocol?.requestInfo(entry.name)?.errors
      const { code, message } = reply.error
      // A code the request does not declare reads as `internal`, like an unknown wire code.
      const known = protocol?.requests === undefined || declared?.has(code) === true
      this.#settle(entry, new RoomwireError(known ? code : 'internal', message))
      return true
    }
    const output =
      protocol === undefined ? undefined : protocol.validateRequestOutput(entry.name, reply.output)
    if (output !== undefined && !output.success) {
      this.#settle(
        entry,
        new RoomwireError('bad_frame', `${entry.name}: the server's ${output.error.message}`),
      )
      return true
    }
    this.#settle(entry, null, output === undefined ? reply.output : output.data)
    return true
  }

  /** An `error` frame; false when its ref is none of ours. */
  refused(message: ErrorMessage): boolean {
    const ref = message.ref
    const entry = typeof ref === 'string' ? this.#sent.get(ref) : undefined
    if (entry === undefined) return false
    const error = new RoomwireError(message.code, message.message)
    const retryable = NOTHING_RAN.has(error.code) || (error.code === 'unavailable' && entry.idempotent)
    if (!retryable) {
      this.#settle(entry, error)
      return true
    }
    // Nothing ran: send it again after a backoff, within its timeout.
    this.#sent.delete(ref as string)
    entry.ref = null
    entry.retryTimer = this.#env.clock.setTimeout(
      () => {
        entry.retryTimer = null
        this.flush()
      },
      this.#env.retryDelay(entry.retries++),
    )
    this.#waiting.push(entry)
    this.flush()
    return true
  }

  /**
   * The connection dropped. A request sent on it without an answer may or may not have run: an
   * idempotent one goes again on the next connection (same id, so the server answers with the first
   * result), any other fails with `disconnected`. Waiting ones keep waiting, unless asked to fail offline.
   */
  disconnected(): void {
    const resend: Entry[] = []
    for (const entry of [...this.#sent.values()]) {
      if (entry.idempotent && !entry.failOffline) {
        this.#sent.delete(entry.ref as string)
        entry.ref = null
        resend.push(entry)
      } else {
        this.#settle(
          entry,
          new RoomwireError('disconnected', `${entry.name}: the connection dropped before the answer`),
        )
      }
    }
    for (const entry of this.#waiting) {
      if (entry.failOffline)
        this.#settle(
          entry,
          new RoomwireError('disconnected', `${entry.name}: the connection dropped`),
          undefined,
          false,
        )
    }
    this.#waiting = [...resend, ...this.#waiting.filter((entry) => !entry.failOffline)]
  }

  /** A room was left: its requests that still wait fail with `error` (those sent get their answer). */
  roomGone(room: string, error: RoomwireError): void {
    for (const entry of [...this.#waiting]) if (entry.room === room) this.#settle(entry, error)
  }

  /** `close()` or a final stop: every request fails with `error`. */
  failAll(error: RoomwireError): void {
    for (const entry of [...this.#sent.values(), ...this.#waiting]) this.#settle(entry, error)
  }

  /** Settle a request once: stop its timers and listener, forget it, resolve or reject. */
  #settle(entry: Entry, error: RoomwireError | null, value?: unknown, dropFromWaiting = true): void {
    const clock = this.#env.clock
    entry.timer = cancelTimer(clock, entry.timer)
    entry.retryTimer = cancelTimer(clock, entry.retryTimer)
    entry.detach?.()
    entry.detach = null
    if (entry.ref !== null) {
      this.#sent.delete(entry.ref)
      entry.ref = null
      // A slot is free: the next waiting request may go.
      queueMicrotask(() => this.flush())
    } else if (dropFromWaiting) {
      const at = this.#waiting.indexOf(entry)
      if (at !== -1) this.#waiting.splice(at, 1)
    }
    if (error === null) entry.resolve(value)
    else entry.reject(error)
  }
}
