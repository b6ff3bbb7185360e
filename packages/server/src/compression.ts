import type { PerMessageDeflateOptions } from 'ws'

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
 * The resulting cost per connection is measured in reliability/test/bounds-edges.test.ts.
 * A later performance issue rebuilds compressed fan-out (compress once per room, not per member).
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
