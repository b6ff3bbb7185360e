import { cancelTimer, type TimerHandle } from './clock'
import { RoomwireError } from './errors'
import type { RoomEnv } from './room-env'
import type { Transport } from './transport'

/**
 * Write a message that expects an ack, and give up with `timeout` when none came within the env's
 * `ackTimeoutMs`. Returns the ref, or why nothing was written (then no callback runs). Otherwise exactly
 * one of `resolve` (the ack), `reject` (a refusal or the timeout) and `disconnected` (the connection
 * dropped before an answer) runs, once. Presence updates and direct messages share it; publishes keep
 * their own timers in the outbox, since they are resent with the same id.
 */
export function requestWithTimeout(
  transport: Pick<Transport, 'request' | 'forget'>,
  env: Pick<RoomEnv, 'clock' | 'ackTimeoutMs'>,
  message: Record<string, unknown>,
  resolve: () => void,
  reject: (error: RoomwireError) => void,
  disconnected: () => void,
): number | RoomwireError {
  let timer: TimerHandle | null = null
  let answered = false
  const done = () => {
    answered = true
    timer = cancelTimer(env.clock, timer)
  }
  const ref = transport.request(message, {
    ack: () => {
      done()
      resolve()
    },
    error: (error) => {
      done()
      reject(error)
    },
    disconnect: () => {
      done()
      disconnected()
    },
  })
  // An in-process transport may have answered inside send(): then there is nothing to time.
  if (typeof ref === 'number' && !answered) {
    const timeoutMs = env.ackTimeoutMs
    timer = env.clock.setTimeout(() => {
      timer = null
      transport.forget(ref)
      reject(new RoomwireError('timeout', `no ack within ${timeoutMs} ms`))
    }, timeoutMs)
  }
  return ref
}
