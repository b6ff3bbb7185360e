import type { PerMessageDeflateOptions } from 'ws'
import type { Clock } from './clock'

/**
 * permessage-deflate (RFC 7692) as the server negotiates it with `perMessageDeflate: true`. ws's defaults
 * keep one compression context per connection (32 KiB window, memLevel 8: about 256 KiB of zlib state,
 * touched by the first message, since with context takeover ws compresses even a 200-byte `welcome`): a
 * compressed connection cost 359 KB against 16 KB without (issue 12). Here:
 * - no context takeover either way: each message is compressed on its own, so nothing is kept between
 *   messages and messages under `threshold` are never compressed (ws applies the threshold only then);
 *   an idle connection that only exchanged small frames has no zlib stream at all;
 * - the server's window is 2 KiB and its hash table small (memLevel 4); JSON's repetitions are mostly
 *   short-range, so large messages still shrink well;
 * - the client's window is left to the client: asking for a smaller one makes ws refuse the handshake of
 *   a client that did not offer `client_max_window_bits` (Firefox does not), so inflating costs the
 *   client's window (32 KiB at most);
 * - 4 KiB output chunks instead of 16 KiB, two per connection that compressed in both directions;
 * - at most 10 zlib operations at once in the process (ws's limiter; it fragments memory otherwise,
 *   websockets/ws#1202).
 * Node's zlib raises memLevel to 8 whatever is asked, so a deflate stream that was used once still holds
 * about 140 KB: {@link startZlibSweep} frees idle streams once per ping interval. The resulting cost per
 * connection is measured in reliability/test/bounds-edges.test.ts.
 * Server-to-client messages are not compressed by ws but by the server itself, once per message for every
 * member alike (deflate-frames.ts, issue 20); ws's deflate stream is then never made for them. Client
 * messages are inflated synchronously, one shot each, in the turn that read them (inbound-inflate.ts):
 * ws's inflate stream is not made either, and the sweep below is left with sockets it could not patch.
 */
export const PER_MESSAGE_DEFLATE: PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 11,
  zlibDeflateOptions: { memLevel: 4, chunkSize: 4096 },
  zlibInflateOptions: { chunkSize: 4096 },
  threshold: 1024,
  concurrencyLimit: 10,
}

/** The parts of ws's permessage-deflate, sender and receiver that tell whether zlib is in use. */
interface ZlibInternals {
  _extensions?: Record<string, { _deflate?: { close(): void } | null; _inflate?: { close(): void } | null }>
  _sender?: { _state?: number; _deflating?: boolean; _queue?: unknown[] }
  _receiver?: { _state?: number; _fragmented?: number }
}

/**
 * Free a connection's zlib streams while they are idle; ws makes them again for the next compressed
 * message. Node's zlib keeps at least memLevel 8 whatever is asked (its hash table and pending buffer are
 * 64 KiB each), so a stream that has compressed once holds about 140 KB until the connection closes: this is
 * what keeps an idle compressed connection small. A stream is left alone while ws may be using it: a
 * message being compressed or queued (the sender is not idle), being inflated, or half received in
 * fragments. Feature-detected, like the direct frame writes in connection.ts: without these internals it
 * does nothing. Returns how many streams it freed.
 */
export function releaseIdleZlib(ws: unknown): number {
  const internals = ws as ZlibInternals
  const extension = internals._extensions?.['permessage-deflate']
  if (extension === undefined) return 0
  let released = 0
  const sender = internals._sender
  if (
    extension._deflate != null &&
    sender !== undefined &&
    !sender._state &&
    sender._deflating !== true &&
    Array.isArray(sender._queue) &&
    sender._queue.length === 0
  ) {
    extension._deflate.close()
    extension._deflate = null
    released++
  }
  const receiver = internals._receiver
  if (
    extension._inflate != null &&
    receiver !== undefined &&
    receiver._state === 0 &&
    !receiver._fragmented
  ) {
    extension._inflate.close()
    extension._inflate = null
    released++
  }
  return released
}

/**
 * Free idle zlib streams of every connection once per `intervalMs` (one timer for all of them, not one per
 * socket). A busy connection pays one stream set-up per interval; an idle one holds none.
 */
export function startZlibSweep(
  clock: Clock,
  intervalMs: number,
  sockets: () => Iterable<{ ws: unknown }>,
): () => void {
  const timer = clock.setInterval(() => {
    for (const { ws } of sockets()) releaseIdleZlib(ws)
  }, intervalMs)
  return () => clock.clearInterval(timer)
}
