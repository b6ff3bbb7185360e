import { type WebSocket, WebSocketServer } from 'ws'
import { type BenchServer, BLAST_HIGH_WATER_BYTES, yieldToIo } from './bench-server'
import { RAW_WS_DEFLATE, type ServerSettings } from './server-settings'

interface Peer {
  id: string
  rooms: Set<string>
}

interface Room {
  members: Set<WebSocket>
  seq: number
}

const WELCOME_LIMITS = { maxMessageBytes: 65536, maxRoomsPerConnection: 10 }
const EPOCH = 'e_bench'
const TEXT = { binary: false }

/** Bytes, not a string: `ws` would otherwise encode a string to UTF-8 again for every recipient. */
function encodeFrame(msg: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(msg))
}

/**
 * The floor: a hand-written room server on raw `ws` that speaks roomwire's JSON for `join`, `leave`,
 * `publish`, `ping` and the request scenario's `request`, and nothing else: no validation beyond JSON.parse, no presence, no history, no
 * limits, no heartbeat. Enough of the protocol that `@roomwire/client` can talk to it.
 */
export function createRawWsServer(settings: ServerSettings = {}): BenchServer {
  const rooms = new Map<string, Room>()
  const peers = new Map<WebSocket, Peer>()
  let nextId = 1
  let wss: WebSocketServer | undefined

  function onConnection(ws: WebSocket): void {
    const peer: Peer = { id: `c${nextId++}`, rooms: new Set() }
    peers.set(ws, peer)
    ws.send(
      JSON.stringify({
        type: 'welcome',
        id: peer.id,
        protocol: 1,
        heartbeat: { interval: 30000, timeout: 10000 },
        limits: WELCOME_LIMITS,
      }),
    )
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return
      let msg: Record<string, unknown>
      try {
        msg = JSON.parse(raw.toString())
      } catch {
        return
      }
      handle(ws, peer, msg)
    })
    ws.on('close', () => {
      for (const name of peer.rooms) leave(ws, name)
      peers.delete(ws)
    })
    ws.on('error', () => {})
  }

  function reply(ws: WebSocket, msg: Record<string, unknown>): void {
    ws.send(JSON.stringify(msg))
  }

  function leave(ws: WebSocket, name: string): void {
    const room = rooms.get(name)
    if (!room) return
    room.members.delete(ws)
    if (room.members.size === 0) rooms.delete(name)
  }

  function handle(ws: WebSocket, peer: Peer, msg: Record<string, unknown>): void {
    const ref = msg.ref
    const name = typeof msg.room === 'string' ? msg.room : ''
    switch (msg.type) {
      case 'join': {
        let room = rooms.get(name)
        if (!room) {
          room = { members: new Set(), seq: 0 }
          rooms.set(name, room)
        }
        room.members.add(ws)
        peer.rooms.add(name)
        reply(ws, { type: 'joined', room: name, seq: room.seq, epoch: EPOCH, members: [], ref })
        return
      }
      case 'leave':
        leave(ws, name)
        peer.rooms.delete(name)
        reply(ws, { type: 'left', room: name, ref })
        return
      case 'publish': {
        const room = rooms.get(name)
        if (!room?.members.has(ws)) {
          reply(ws, { type: 'error', code: 'not_joined', message: 'join the room first', ref, room: name })
          return
        }
        room.seq += 1
        // Serialized and encoded to bytes once for every member, like any sensible fan-out.
        const frame = encodeFrame({
          type: 'message',
          room: name,
          event: msg.event,
          data: msg.data,
          from: peer.id,
          seq: room.seq,
          ts: Date.now(),
        })
        for (const member of room.members) {
          if (member !== ws || msg.echo === true) member.send(frame, TEXT)
        }
        if (ref !== undefined) reply(ws, { type: 'ack', ref, seq: room.seq })
        return
      }
      case 'ping':
        reply(ws, { type: 'pong', t: msg.t, ref })
        return
      case 'request':
        // The request scenario's `double`, answered here: JSON.parse, one field read, one reply.
        reply(ws, { type: 'reply', ref, output: { n: (msg.input as { n: number }).n * 2 } })
        return
      default:
        reply(ws, { type: 'error', code: 'bad_request', message: 'unsupported type', ref })
    }
  }

  return {
    listen(port) {
      return new Promise((resolve, reject) => {
        const server = new WebSocketServer({
          host: '127.0.0.1',
          port,
          path: '/ws',
          perMessageDeflate: settings.compression === true ? RAW_WS_DEFLATE : false,
          clientTracking: false,
          maxPayload: 65536,
        })
        server.once('listening', () => {
          const address = server.address()
          resolve(typeof address === 'object' && address ? address.port : port)
        })
        server.once('error', reject)
        server.on('connection', onConnection)
        wss = server
      })
    },
    async blast(name, count) {
      const room = rooms.get(name)
      if (!room) throw new Error(`no room '${name}' to blast`)
      for (let i = 0; i < count; i++) {
        room.seq += 1
        const frame = encodeFrame({
          type: 'message',
          room: name,
          event: 'tick',
          data: { t: performance.now(), i },
          from: 'server',
          seq: room.seq,
          ts: Date.now(),
        })
        for (const member of room.members) member.send(frame, TEXT)
        if (i % 256 === 255) {
          await yieldToIo()
          while (maxBuffered(room.members) > BLAST_HIGH_WATER_BYTES) await yieldToIo()
        }
      }
    },
    connectionCount: () => peers.size,
    close() {
      for (const ws of peers.keys()) ws.terminate()
      return new Promise((resolve) => (wss ? wss.close(() => resolve()) : resolve()))
    },
  }
}

function maxBuffered(sockets: Iterable<WebSocket>): number {
  let max = 0
  for (const ws of sockets) if (ws.bufferedAmount > max) max = ws.bufferedAmount
  return max
}
