import net from 'node:net'
import { parseFrames } from './ws-frames'

/** How the proxy ends a connection. */
export type CutKind = 'abrupt' | 'midFrame' | 'duringJoin'

interface Pair {
  client: net.Socket
  upstream: net.Socket
  /** Cut this connection right after its `join` reached the server, while the answer is on its way. */
  cutAfterJoin: boolean
  joinSeen: boolean
  /** Forward half of the next server chunk, then cut. */
  cutMidFrame: boolean
  dead: boolean
}

/** A loopback TCP proxy that cuts connections the way networks and crashing peers do. */
export interface ChaosProxy {
  readonly port: number
  readonly open: number
  readonly cuts: Record<CutKind, number>
  /** Connections made through the proxy so far. */
  readonly connections: number
  /** Cut one random open connection; false when none is open. */
  cutRandom(kind: 'abrupt' | 'midFrame'): boolean
  /** Probability that a new connection is cut during its first join. */
  joinCutProbability: number
  close(): Promise<void>
}

/** Start a proxy to 127.0.0.1:targetPort; `random` decides which connection and when. */
export async function startChaosProxy(
  targetPort: number,
  random: () => number = Math.random,
): Promise<ChaosProxy> {
  const pairs = new Set<Pair>()
  const cuts: Record<CutKind, number> = { abrupt: 0, midFrame: 0, duringJoin: 0 }
  let connections = 0

  const kill = (pair: Pair, rst: boolean) => {
    if (pair.dead) return
    pair.dead = true
    pairs.delete(pair)
    if (rst) {
      pair.client.resetAndDestroy()
      pair.upstream.resetAndDestroy()
    } else {
      pair.client.destroy()
      pair.upstream.destroy()
    }
  }

  const server = net.createServer((client) => {
    connections++
    const upstream = net.connect(targetPort, '127.0.0.1')
    const pair: Pair = {
      client,
      upstream,
      cutAfterJoin: random() < proxy.joinCutProbability,
      joinSeen: false,
      cutMidFrame: false,
      dead: false,
    }
    pairs.add(pair)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('error', () => kill(pair, false)).on('close', () => kill(pair, false))
    upstream.on('error', () => kill(pair, false)).on('close', () => kill(pair, false))
    client.on('data', (chunk: Buffer) => {
      if (pair.dead) return
      upstream.write(chunk)
      if (pair.cutAfterJoin && !pair.joinSeen) {
        // Client frames are masked: unmask to find the join (the handshake request is not a frame).
        const { frames } = parseFrames(chunk)
        if (frames.some((f) => f.opcode === 1 && f.payload.includes('"type":"join"'))) pair.joinSeen = true
      }
    })
    upstream.on('data', (chunk: Buffer) => {
      if (pair.dead) return
      if (pair.joinSeen) {
        // The answer to the join (replayed messages or joined): let part of it through, then cut.
        client.write(chunk.subarray(0, Math.floor(chunk.length / 2)))
        cuts.duringJoin++
        kill(pair, false)
        return
      }
      if (pair.cutMidFrame && chunk.length >= 2) {
        client.write(chunk.subarray(0, 1 + Math.floor(random() * (chunk.length - 1))))
        cuts.midFrame++
        kill(pair, false)
        return
      }
      client.write(chunk)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy: ChaosProxy = {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return pairs.size
    },
    cuts,
    get connections() {
      return connections
    },
    joinCutProbability: 0,
    cutRandom(kind) {
      const list = [...pairs].filter((p) => !p.cutMidFrame)
      const pair = list[Math.floor(random() * list.length)]
      if (pair === undefined) return false
      if (kind === 'abrupt') {
        cuts.abrupt++
        kill(pair, true)
      } else pair.cutMidFrame = true
      return true
    },
    async close() {
      proxy.joinCutProbability = 0
      for (const pair of [...pairs]) kill(pair, true)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}
