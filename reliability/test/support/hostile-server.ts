import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'
import type { FuzzFrame } from './mutations'

/** What the hostile server sends on top of the honest protocol, for one client. */
export interface HostileScript {
  /** Sent before `welcome`, on the first connection only. */
  beforeWelcome: FuzzFrame[]
  /** `between[i]` is sent right before honest message i + 1, once (not again after a reconnect). */
  between: FuzzFrame[][]
}

/** Frames of a script as the client received them, to compare with what it reported. */
export interface Delivered {
  frame: FuzzFrame
  /** On which connection, and whether `welcome` had been sent on it before. */
  conn: number
  afterWelcome: boolean
}

/**
 * A `ws` WebSocketServer on 127.0.0.1 that speaks the protocol honestly to one SDK client in room `r` (a
 * `welcome`, a `joined` with the replay after `since`, pongs, and `count` room messages seq 1..count,
 * epoch `e_hostile`) and interleaves a script of hostile frames. After a frame of invalid UTF-8 it sends
 * nothing more on that connection (the client closes it with 1007); the rest follows on the next one.
 */
export interface HostileServer {
  readonly url: string
  /** Start a new script for the next client; honest messages restart at seq 1. */
  play(script: HostileScript, count: number): void
  /** Hostile frames sent so far in this script, in order. */
  readonly sent: Delivered[]
  /** Connections made in this script. */
  readonly connections: number
  close(): Promise<void>
}

export const HONEST_ROOM = 'r'
export const HONEST_EPOCH = 'e_hostile'

export async function startHostileServer(): Promise<HostileServer> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (offered) => offered.values().next().value ?? false,
  })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  let script: HostileScript = { beforeWelcome: [], between: [] }
  let count = 0
  /** Honest messages sent so far (to any connection of this script), and hostile positions used. */
  let progress = 0
  let hostileUsed = -1
  let connections = 0
  let sent: Delivered[] = []
  let generation = 0

  const honest = (seq: number) =>
    JSON.stringify({
      type: 'message',
      room: HONEST_ROOM,
      event: 'm',
      data: { k: `h${seq}` },
      from: 'server',
      seq,
      ts: Date.now(),
    })

  wss.on('connection', (socket: WebSocket) => {
    const mine = generation
    const conn = connections++
    let dead = false
    let welcomed = false
    let joined = false
    socket.on('error', () => {})
    const hostile = (frame: FuzzFrame) => {
      if (dead || socket.readyState !== socket.OPEN) return
      sent.push({ frame, conn, afterWelcome: welcomed })
      if (frame.kind === 'text') socket.send(frame.text)
      else if (frame.kind === 'binary') socket.send(frame.bytes, { binary: true })
      else {
        socket.send(frame.bytes, { binary: false })
        dead = true
      }
    }
    const stream = () => {
      while (!dead && joined && mine === generation && progress < count) {
        const position = progress
        if (position > hostileUsed) {
          hostileUsed = position
          for (const frame of script.between[position] ?? []) hostile(frame)
        }
        if (dead) return
        progress++
        socket.send(honest(progress))
      }
    }
    if (conn === 0) for (const frame of script.beforeWelcome) hostile(frame)
    if (dead) return
    socket.send(
      JSON.stringify({
        type: 'welcome',
        id: `c_hostile${conn}`,
        protocol: 1,
        heartbeat: { interval: 2000, timeout: 2000 },
        limits: { maxMessageBytes: 65_536, maxRoomsPerConnection: 10 },
      }),
    )
    welcomed = true
    socket.on('message', (raw) => {
      if (dead || mine !== generation) return
      let message: Record<string, unknown>
      try {
        message = JSON.parse(String(raw)) as Record<string, unknown>
      } catch {
        return
      }
      const ref = message.ref === undefined ? {} : { ref: message.ref }
      if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong', t: message.t, ...ref }))
      else if (message.type === 'leave')
        socket.send(JSON.stringify({ type: 'left', room: message.room, ...ref }))
      else if (message.type === 'publish') socket.send(JSON.stringify({ type: 'ack', ...ref }))
      else if (message.type === 'join' && message.room === HONEST_ROOM) {
        const since =
          message.epoch === HONEST_EPOCH && typeof message.since === 'number' ? message.since : undefined
        const from = since ?? progress
        const replay = progress - from
        socket.send(
          JSON.stringify({
            type: 'joined',
            room: HONEST_ROOM,
            seq: progress,
            epoch: HONEST_EPOCH,
            members: [{ id: `c_hostile${conn}` }],
            ...(since === undefined ? {} : { recovered: true }),
            ...(replay > 0 ? { replay } : {}),
            ...ref,
          }),
        )
        for (let seq = from + 1; seq <= progress; seq++) socket.send(honest(seq))
        joined = true
        // Honest messages go out a turn later, so the join settles first, as on a real server.
        setImmediate(stream)
      }
    })
  })

  const port = (wss.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    play(next, n) {
      generation++
      script = next
      count = n
      progress = 0
      hostileUsed = -1
      connections = 0
      sent = []
      for (const client of wss.clients) client.terminate()
    },
    get sent() {
      return sent
    },
    get connections() {
      return connections
    },
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
