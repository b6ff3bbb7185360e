import net from 'node:net'

/**
 * One test client's TCP path to the server, so a test can cut exactly that client: `cut()` resets both
 * sockets (RST, no close frame, no FIN), the client sees 1006, the server a dead socket. The proxy keeps
 * listening, so the client's reconnect comes through it again (to whatever listens on the target port,
 * the same after a restart).
 */
export interface CutProxy {
  readonly port: number
  /** Reset every connection open now; how many there were. */
  cut(): number
  close(): Promise<void>
}

export async function startCutProxy(targetPort: () => number): Promise<CutProxy> {
  const pairs = new Set<readonly [net.Socket, net.Socket]>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort(), '127.0.0.1')
    const pair = [client, upstream] as const
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const cut = () => {
    const count = pairs.size
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy()
      upstream.resetAndDestroy()
    }
    pairs.clear()
    return count
  }
  return {
    port: (server.address() as net.AddressInfo).port,
    cut,
    close: async () => {
      cut()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await closePhasePassed()
    },
  }
}

/**
 * Resolves once the event loop's close phase has run: a closed listener or socket releases its handle
 * there, after the check phase an immediate runs in. Two turns, and `process.getActiveResourcesInfo()`
 * no longer lists what was closed before.
 */
export async function closePhasePassed(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve))
}
