import type { EventEmitter } from 'node:events'
import type { Clock } from './clock'
import type { Connection } from './connection'

/** How often a wait for the socket to drain looks again, besides the socket's own 'drain' event. */
const DRAIN_POLL_MS = 20

/** How {@link writePaced} ended, and how many bytes it wrote. */
export type PacedOutcome =
  | { ok: true; bytes: number }
  /** `closed`: the connection closed; `stalled`: the socket did not drain within the timeout. */
  | { ok: false; reason: 'closed' | 'stalled'; bytes: number }

/** Limits of {@link writePaced}. */
export interface PacedOptions {
  /** A frame is written only while what waits in the socket's buffer, with it, stays under this. */
  highWaterBytes: number
  /** How long one wait for the socket to drain may take. */
  stallTimeoutMs: number
  /** The server's clock: the drain poll and the stall timeout run on it. */
  clock: Clock
}

/**
 * Write `frames` to a connection as its socket drains: each one only while `ws.bufferedAmount` plus the
 * frame stays under `highWaterBytes` (or the buffer is empty), otherwise after the socket drained that
 * far; bytes corked in this turn count only after they were handed to the kernel. A replay or a member list larger than the send buffer then never makes its joiner a slow consumer
 * (issue 13: a history join over a slow link was closed with 4008 and asked for the same history again
 * forever). A socket that takes longer than `stallTimeoutMs` to drain, or that closes, ends it early. A
 * fast socket is written in one go, without awaiting anything.
 */
export async function writePaced(
  connection: Connection,
  frames: Iterable<string>,
  options: PacedOptions,
): Promise<PacedOutcome> {
  let bytes = 0
  for (const text of frames) {
    const size = Buffer.byteLength(text)
    if (!roomFor(connection, size, options.highWaterBytes)) {
      const outcome = await drained(connection, size, options)
      if (outcome !== 'drained') return { ok: false, reason: outcome, bytes }
    }
    if (!isOpen(connection)) return { ok: false, reason: 'closed', bytes }
    connection.sendText(text)
    bytes += size
  }
  return isOpen(connection) ? { ok: true, bytes } : { ok: false, reason: 'closed', bytes }
}

function isOpen(connection: Connection): boolean {
  return !connection.closing && connection.ws.readyState === 1
}

function roomFor(connection: Connection, size: number, highWaterBytes: number): boolean {
  const fits = (buffered: number) => buffered === 0 || buffered + size <= highWaterBytes
  // Most of what the buffer holds may be this turn's own corked frames (frames.ts): those are handed to the
  // kernel before judging, else a join would wait on itself until the turn ends, and the room's messages
  // held for it meanwhile could overflow into a 4008 (issue 20). Handed over only when it matters, so a
  // join's frames still go out in batches.
  return fits(connection.ws.bufferedAmount) || fits(connection.writer.backlog())
}

/** Wait until the socket has room for `size` more bytes, closed, or stalled. */
function drained(
  connection: Connection,
  size: number,
  options: PacedOptions,
): Promise<'drained' | 'closed' | 'stalled'> {
  const ws = connection.ws
  // ws's net.Socket, when it has one: its 'drain' event answers at once; the poll covers the rest (a
  // buffer under the socket's high-water mark emits no 'drain', and the socket is not public API).
  const socket = (ws as unknown as { _socket?: Partial<EventEmitter> })._socket
  const drains = typeof socket?.on === 'function' && typeof socket.off === 'function'
  return new Promise((resolve) => {
    const check = () => {
      if (!isOpen(connection)) finish('closed')
      else if (roomFor(connection, size, options.highWaterBytes)) finish('drained')
    }
    const { clock } = options
    const finish = (outcome: 'drained' | 'closed' | 'stalled') => {
      clock.clearInterval(poll)
      clock.clearTimeout(deadline)
      if (drains) socket.off!('drain', check)
      ws.off('close', check)
      resolve(outcome)
    }
    const poll = clock.setInterval(check, DRAIN_POLL_MS)
    const deadline = clock.setTimeout(() => finish('stalled'), options.stallTimeoutMs)
    if (drains) socket.on!('drain', check)
    ws.on('close', check)
  })
}
