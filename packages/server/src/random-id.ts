import { randomFillSync } from 'node:crypto'

/** Random bytes drawn per refill: 455 ids of 9 bytes. */
const POOL_BYTES = 4095

const pool = Buffer.allocUnsafe(POOL_BYTES)
let used = POOL_BYTES

/**
 * `prefix` and `bytes` cryptographically random bytes in base64url, unguessable as `randomBytes` is. Drawn
 * from a pooled buffer: `randomBytes(9)` per connection was 1 % of the server's CPU in the connection
 * storm (a new Buffer and a call into OpenSSL for every id), one refill per 455 ids is not.
 */
export function randomId(prefix: string, bytes: number): string {
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool)
    used = 0
  }
  const start = used
  used += bytes
  return prefix + pool.toString('base64url', start, used)
}
