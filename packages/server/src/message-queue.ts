import type { ClientMessage, ErrorCode, Ref } from '@roomwire/protocol'
import type { Connection } from './connection'
import type { Outcome } from './handlers'
import type { InboundDeps } from './inbound'

/**
 * Consecutive publishes started together at most. With Redis they then leave as one write, the store
 * runs their scripts in one go, and every node gets their frames in one read, so each member's socket
 * takes them in one write (frames.ts, WriteCoalescer) instead of one round trip and one write each.
 */
const MAX_PIPELINED = 64

/** How the queue answers (inbound.ts `createReplies`): the `error` frame, a failure, a bug of its own. */
interface QueueReplies {
  replyError(connection: Connection, code: ErrorCode, message: string, ref?: Ref, room?: string): void
  failed(connection: Connection, err: unknown, what: string, ref?: Ref, room?: string): void
  logFailure(connection: Connection, err: unknown, what: string): void
}

/**
 * Each connection's message queue (`connection.queue`, written only here): its messages are handed to the
 * handlers one at a time, in order, except consecutive ones that pipeline (InboundDeps.pipelines), which
 * start together and are still answered in order. Returns the function that takes one message.
 */
export function createMessageQueue(
  deps: Pick<InboundDeps, 'handle' | 'pipelines'>,
  replies: QueueReplies,
): (connection: Connection, msg: ClientMessage) => void {
  const { replyError, failed, logFailure } = replies

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

  return enqueue
}

/** A handler's outcome, or what it threw (see `start` in {@link createInbound}). */
type Answer = Outcome | { thrown: unknown }

/** A message the queue started and has not answered yet; `answered` lets the one started after it answer. */
interface Started {
  msg: ClientMessage
  pending: Promise<Answer> | undefined
  answered?: () => void
}

export function roomOf(msg: ClientMessage): string | undefined {
  return 'room' in msg ? msg.room : undefined
}
