/** The payload every benchmark message carries: the sender's `performance.now()` and a counter. */
export interface BenchPayload {
  t: number
  i: number
  text: string
}

/** The request the `request` scenario calls: `{ n }` in, `{ n: n * 2 }` out. */
export const DOUBLE_REQUEST = 'double'

/** 32 bytes of text so a message is the size of a short chat line (about 150 bytes on the wire). */
export const PAYLOAD_TEXT = 'the quick brown fox jumps over..'

/** One load-generator connection, whatever protocol it speaks underneath. */
export interface LoadConnection {
  /** Join `room` and wait for the server to confirm. */
  join(room: string): Promise<void>
  /** Publish to `room` without asking for an acknowledgement. */
  publish(room: string, data: BenchPayload): void
  /** Publish to `room` and wait for the server's acknowledgement: one request/reply round trip. */
  request(room: string, data: BenchPayload): Promise<void>
  /**
   * Ask for the newest `limit` messages of `room` (roomwire's `history`) and wait for the page; resolves
   * with how many it held. Only roomwire's wire connection has it.
   */
  history?(room: string, limit: number): Promise<number>
  /**
   * Call the server's `double` request with `{ n }` and wait for its reply (roomwire: a typed request and
   * its handler; the peers answer the same JSON frame themselves). Resolves with the reply's `n`.
   */
  call(n: number): Promise<number>
  /** Called with the payload's `t` for every message delivered to this connection. */
  onMessage: ((sentAt: number) => void) | undefined
  /** Membership frames received so far (roomwire's presence; 0 for the peers). */
  membershipFrames: number
  /**
   * The room's member count as this connection knows it (one room): its `joined` list and member pages,
   * plus joins, minus leaves. For the peers, which send no members, it stays 0.
   */
  memberCount: number
  /** The close code, once the connection closed. */
  closeCode: number | undefined
  /** Called with the close code when the connection closes. */
  onClose: ((code: number) => void) | undefined
  /** Close the connection. */
  close(): void
}

/** Opens a connection to a server on 127.0.0.1 at `port`. */
export type Connector = (port: number) => Promise<LoadConnection>

/** Open `count` connections, at most `concurrency` at a time, joining room `roomOf(i)` each. */
export async function connectMany(
  connect: Connector,
  port: number,
  count: number,
  roomOf: (i: number) => string | undefined,
  concurrency = 256,
): Promise<LoadConnection[]> {
  const out: LoadConnection[] = new Array(count)
  let next = 0
  async function worker(): Promise<void> {
    while (next < count) {
      const i = next++
      const conn = await connect(port)
      out[i] = conn
      const room = roomOf(i)
      if (room !== undefined) await conn.join(room)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return out
}

/** Close every connection. */
export function closeAll(connections: Iterable<LoadConnection | undefined>): void {
  for (const c of connections) c?.close()
}
