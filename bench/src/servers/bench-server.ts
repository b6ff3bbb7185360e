/** What every server under test offers the harness, whatever it is built on. */
export interface BenchServer {
  /** Listen on 127.0.0.1 at `port` (0 for any); resolves with the port. */
  listen(port: number): Promise<number>
  /** Push `count` messages of event `tick` to every member of `room` as fast as the sockets take them. */
  blast(room: string, count: number): Promise<void>
  /** Open connections right now. */
  connectionCount(): number
  /** Stop listening and close every connection. */
  close(): Promise<void>
}

/** The implementations compared, in report order. */
export const IMPLEMENTATIONS = [
  'ws',
  'uws',
  'socketio',
  'roomwire',
  'roomwire-main',
  'roomwire-before',
] as const

/** One implementation under test. */
export type Implementation = (typeof IMPLEMENTATIONS)[number]

/** How the report names each implementation. */
export const IMPLEMENTATION_LABELS: Record<Implementation, string> = {
  ws: 'raw ws',
  uws: 'uWS',
  socketio: 'Socket.IO',
  roomwire: 'roomwire',
  'roomwire-main': 'roomwire main',
  'roomwire-before': 'roomwire before',
}

/** Past this many bytes waiting in a socket's send buffer, a blast yields to the event loop. */
export const BLAST_HIGH_WATER_BYTES = 1 << 20

/** Yield to I/O so queued writes can drain. */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Whether an implementation is roomwire: the working tree's, or a copy given with `--before` or `--main`
 * (another commit's packages/server/src, for a before/after in the same run).
 */
export function isRoomwire(impl: Implementation): boolean {
  return impl === 'roomwire' || impl === 'roomwire-main' || impl === 'roomwire-before'
}
