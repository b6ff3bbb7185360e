import { createServer, type Socket, connect as tcpConnect } from 'node:net'

/** One client connection through a {@link TcpProxy}. */
export interface ProxiedConnection {
  /** The first 8 KiB the client sent (to tell a subscriber from a command connection by its `subscribe`). */
  readonly sent: string
  /** Whether its bytes are held back. */
  readonly paused: boolean
  /** What the client sent that is held back now (to see that a command reached the stalled link). */
  readonly held: string
  /** What Redis sent that is held back now. */
  readonly heard: string
  /** Cut it at once, both ways: what was held is lost, as over a link that died. */
  destroy(): void
}

/**
 * A loopback TCP proxy between a node and Redis that a test can stall and heal. A paused connection
 * forwards nothing in either direction and resets nothing: both peers hear silence, as over a stalled link.
 * What either side sent meanwhile (bytes, and a close) is held and delivered in order on resume, the way
 * TCP delivers what it buffered once a partition heals: a command the node gave up on still reaches Redis.
 */
export interface TcpProxy {
  readonly port: number
  /** `redis://127.0.0.1:port` */
  readonly url: string
  /**
   * Stall every connection, open now or opened later, until {@link resume}; with `match`, only those it
   * picks (it is asked again whenever a connection sends more, so a new subscriber stalls once it
   * subscribes: its `subscribe` is held too).
   */
  pause(match?: (connection: ProxiedConnection) => boolean): void
  /** Deliver what was held, in order, and forward again. */
  resume(): void
  /** Open connections. */
  connections(): ProxiedConnection[]
  close(): Promise<void>
}

interface Side {
  socket: Socket
  /** Chunks held for this side while paused; `null` marks the other side's close. */
  held: (Buffer | null)[]
}

class Pair implements ProxiedConnection {
  sent = ''
  paused = false
  readonly client: Side
  readonly upstream: Side
  #dead = false
  readonly #onDead: () => void
  readonly #stalls: () => ((connection: ProxiedConnection) => boolean) | undefined

  constructor(
    client: Socket,
    upstream: Socket,
    stalls: () => ((connection: ProxiedConnection) => boolean) | undefined,
    onDead: () => void,
  ) {
    this.#stalls = stalls
    this.#onDead = onDead
    this.client = { socket: client, held: [] }
    this.upstream = { socket: upstream, held: [] }
    this.#wire(this.client, this.upstream, true)
    this.#wire(this.upstream, this.client, false)
  }

  get held(): string {
    return this.upstream.held.map((chunk) => chunk?.toString('latin1') ?? '').join('')
  }

  get heard(): string {
    return this.client.held.map((chunk) => chunk?.toString('latin1') ?? '').join('')
  }

  #wire(from: Side, to: Side, fromClient: boolean): void {
    from.socket.on('data', (chunk: Buffer) => {
      if (fromClient && this.sent.length < 8192) this.sent += chunk.toString('latin1')
      if (fromClient && !this.paused && this.#stalls()?.(this) === true) this.paused = true
      if (this.paused) to.held.push(chunk)
      else to.socket.write(chunk)
    })
    const closed = () => {
      if (this.paused) to.held.push(null)
      else this.destroy()
    }
    from.socket.on('close', closed)
    from.socket.on('error', () => undefined)
  }

  resume(): void {
    this.paused = false
    let ended = false
    for (const side of [this.upstream, this.client]) {
      for (const chunk of side.held.splice(0)) {
        if (chunk === null) ended = true
        else if (!side.socket.destroyed) side.socket.write(chunk)
      }
    }
    // A close held during the pause comes after the bytes sent before it.
    if (ended) {
      this.upstream.socket.end()
      this.client.socket.end()
      this.#dead = true
      this.#onDead()
    }
  }

  destroy(): void {
    if (this.#dead) return
    this.#dead = true
    this.client.socket.destroy()
    this.upstream.socket.destroy()
    this.#onDead()
  }
}

/** Start a proxy on 127.0.0.1 (a free port) to `target` (`host:port`, default the shared Redis). */
export async function startTcpProxy(target = { host: '127.0.0.1', port: 6379 }): Promise<TcpProxy> {
  const pairs = new Set<Pair>()
  let stalls: ((connection: ProxiedConnection) => boolean) | undefined
  const server = createServer((client) => {
    client.setNoDelay(true)
    const upstream = tcpConnect(target.port, target.host)
    upstream.setNoDelay(true)
    const pair: Pair = new Pair(
      client,
      upstream,
      () => stalls,
      () => pairs.delete(pair),
    )
    pair.paused = stalls?.(pair) === true
    pairs.add(pair)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause(match = () => true) {
      stalls = match
      for (const pair of pairs) if (match(pair)) pair.paused = true
    },
    resume() {
      stalls = undefined
      for (const pair of pairs) pair.resume()
    },
    connections: () => [...pairs],
    async close() {
      for (const pair of pairs) pair.destroy()
      pairs.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
