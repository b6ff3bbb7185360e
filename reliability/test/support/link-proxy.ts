import net from 'node:net'

/**
 * One proxied TCP connection. `blackholed`: nothing is forwarded any more and neither side is told
 * (no FIN, no RST), as when a NAT entry or a Wi-Fi link silently dies. `stalled`: nothing is read from
 * either side until the stall ends, so bytes wait in kernel buffers and then arrive late, in order.
 */
interface Pair {
  readonly client: net.Socket
  readonly upstream: net.Socket
  blackholed: boolean
  /** Held by a stall of this connection alone (see {@link LinkProxy.stall}). */
  stalled: boolean
  /** The first bytes the client sent (to pick connections by what they said). */
  sent: string
  clientOpen: boolean
  dead: boolean
  /** Server-to-client bytes waiting for the throttle. */
  queue: Buffer[]
  queued: number
}

/** Where a new connection goes: a port on 127.0.0.1, or undefined to refuse it (RST). */
export type Route = () => number | undefined

/**
 * A loopback TCP link a test can break the way networks break: cut it (RST, no close frame), black-hole
 * it (stop forwarding, tell nobody), take it offline (cut, and refuse new connections until online
 * again), stall it (hold every byte until healed, no reset), or throttle what flows back to the client.
 * It knows nothing of WebSocket or Redis: any protocol over TCP goes through.
 */
export interface LinkProxy {
  readonly port: number
  /** A WebSocket URL through this link. */
  readonly url: string
  /** Connections accepted so far (refused ones included). */
  readonly connections: number
  /** Connections open now. */
  readonly open: number
  /** Whether new connections are refused. */
  readonly offline: boolean
  /** Whether every byte is held (see {@link stall}). */
  readonly stalled: boolean
  /** Reset every open connection (RST both ways: no close frame, no FIN). Returns how many. */
  cut(): number
  /** Stop forwarding on every open connection, silently; new connections work. Returns how many. */
  blackhole(): number
  /** Cut, and refuse (RST) every new connection until {@link online}. */
  goOffline(): void
  online(): void
  /**
   * Hold every byte in both directions until {@link heal}: on every open and new connection, or with
   * `only`, on the open connections whose first bytes from the client match it (a Redis subscriber
   * connection is the one that said SUBSCRIBE).
   */
  stall(only?: RegExp): void
  heal(): void
  /** Forward server-to-client bytes at most this fast (null: no limit). */
  throttle(bytesPerSecond: number | null): void
  close(): Promise<void>
}

/** Start a link on a free loopback port; `route` picks the target of each new connection. */
export async function startLinkProxy(route: Route, path = '/ws'): Promise<LinkProxy> {
  const pairs = new Set<Pair>()
  let connections = 0
  let offline = false
  let stalled = false
  let rate: number | null = null
  let pump: ReturnType<typeof setInterval> | undefined

  const kill = (pair: Pair, rst: boolean) => {
    if (pair.dead) return
    pair.dead = true
    pair.clientOpen = false
    pairs.delete(pair)
    for (const socket of [pair.client, pair.upstream]) {
      if (rst) socket.resetAndDestroy()
      else socket.destroy()
    }
  }

  // A black-holed pair tells neither side anything: each side's own close only ends that side.
  const onClientGone = (pair: Pair) => {
    pair.clientOpen = false
    if (!pair.blackholed) kill(pair, false)
  }
  const onUpstreamGone = (pair: Pair) => {
    if (!pair.blackholed) kill(pair, false)
    else if (!pair.clientOpen) kill(pair, false)
  }

  const toClient = (pair: Pair, chunk: Buffer) => {
    if (rate === null) {
      pair.client.write(chunk)
      return
    }
    pair.queue.push(chunk)
    pair.queued += chunk.length
    // Backpressure: stop reading from the server while the throttle holds more than a second's worth.
    if (pair.queued > rate) pair.upstream.pause()
  }

  const TICK_MS = 20
  const startPump = () => {
    pump ??= setInterval(() => {
      if (rate === null || stalled) return
      for (const pair of pairs) {
        if (pair.stalled) continue
        let budget = Math.max(1, Math.floor((rate * TICK_MS) / 1000))
        while (budget > 0 && pair.queue.length > 0 && !pair.blackholed) {
          const head = pair.queue[0]!
          const part = head.subarray(0, budget)
          pair.client.write(part)
          budget -= part.length
          pair.queued -= part.length
          if (part.length === head.length) pair.queue.shift()
          else pair.queue[0] = head.subarray(part.length)
        }
        if (pair.queued <= rate && !stalled && !pair.stalled) pair.upstream.resume()
      }
    }, TICK_MS)
    pump.unref()
  }

  const server = net.createServer((client) => {
    connections++
    client.on('error', () => {})
    const target = offline ? undefined : route()
    if (target === undefined) {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect(target, '127.0.0.1')
    upstream.on('error', () => {})
    const pair: Pair = {
      client,
      upstream,
      blackholed: false,
      stalled: false,
      sent: '',
      clientOpen: true,
      dead: false,
      queue: [],
      queued: 0,
    }
    pairs.add(pair)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('close', () => onClientGone(pair))
    upstream.on('close', () => onUpstreamGone(pair))
    client.on('data', (chunk: Buffer) => {
      if (pair.sent.length < 65_536) pair.sent += chunk.toString('latin1')
      if (!pair.blackholed && !pair.dead) upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.blackholed && !pair.dead) toClient(pair, chunk)
    })
    if (stalled) {
      client.pause()
      upstream.pause()
    }
  })
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port

  return {
    port,
    url: `ws://127.0.0.1:${port}${path}`,
    get connections() {
      return connections
    },
    get open() {
      return pairs.size
    },
    get offline() {
      return offline
    },
    get stalled() {
      return stalled || [...pairs].some((pair) => pair.stalled)
    },
    cut() {
      const open = [...pairs]
      for (const pair of open) kill(pair, true)
      return open.length
    },
    blackhole() {
      let count = 0
      for (const pair of pairs) {
        if (pair.blackholed) continue
        pair.blackholed = true
        pair.queue = []
        pair.queued = 0
        count++
      }
      return count
    },
    goOffline() {
      offline = true
      for (const pair of [...pairs]) kill(pair, true)
    },
    online() {
      offline = false
    },
    stall(only) {
      if (only === undefined) stalled = true
      for (const pair of pairs) {
        if (only !== undefined && !only.test(pair.sent)) continue
        pair.stalled = true
        pair.client.pause()
        pair.upstream.pause()
      }
    },
    heal() {
      stalled = false
      for (const pair of pairs) {
        pair.stalled = false
        pair.client.resume()
        if (pair.queued <= (rate ?? Number.POSITIVE_INFINITY)) pair.upstream.resume()
      }
    },
    throttle(bytesPerSecond) {
      rate = bytesPerSecond
      if (rate !== null) startPump()
      else {
        for (const pair of pairs) {
          for (const chunk of pair.queue) pair.client.write(chunk)
          pair.queue = []
          pair.queued = 0
          if (!stalled) pair.upstream.resume()
        }
      }
    },
    async close() {
      clearInterval(pump)
      for (const pair of [...pairs]) kill(pair, true)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
