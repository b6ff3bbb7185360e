import { createServer, type Server as HttpServer } from 'node:http'
import { Server, type Socket } from 'socket.io'
import { type BenchServer, yieldToIo } from './bench-server'

interface PublishPayload {
  room: string
  event: string
  data: unknown
}

type Ack = (reply: { seq: number }) => void

// Engine.io writes one batch per socket and waits for its callback before the next (see
// engine.io/build/transports/websocket.js), so its queue is the writeBuffer, counted in packets.
const BLAST_HIGH_WATER_PACKETS = 2048

/**
 * Socket.IO 4 the way its documentation builds rooms: `socket.join(room)` and
 * `socket.to(room).emit(...)`, WebSocket transport only, no HTTP long-polling, no compression.
 */
export function createSocketIoServer(): BenchServer {
  const seqs = new Map<string, number>()
  let http: HttpServer | undefined
  let io: Server | undefined

  function nextSeq(room: string): number {
    const seq = (seqs.get(room) ?? 0) + 1
    seqs.set(room, seq)
    return seq
  }

  function onConnection(socket: Socket): void {
    socket.on('join', (room: string, ack?: Ack) => {
      void socket.join(room)
      ack?.({ seq: seqs.get(room) ?? 0 })
    })
    socket.on('leave', (room: string, ack?: Ack) => {
      void socket.leave(room)
      ack?.({ seq: seqs.get(room) ?? 0 })
    })
    socket.on('publish', (msg: PublishPayload, ack?: Ack) => {
      if (!socket.rooms.has(msg.room)) return
      const seq = nextSeq(msg.room)
      socket.to(msg.room).emit('message', {
        room: msg.room,
        event: msg.event,
        data: msg.data,
        from: socket.id,
        seq,
        ts: Date.now(),
      })
      ack?.({ seq })
    })
    // The request scenario's call: Socket.IO's untyped ack is its request/reply.
    socket.on('double', (input: { n: number }, ack?: (reply: { n: number }) => void) => {
      ack?.({ n: input.n * 2 })
    })
  }

  function members(room: string): Socket[] {
    const ids = io?.sockets.adapter.rooms.get(room) ?? new Set<string>()
    const sockets: Socket[] = []
    for (const id of ids) {
      const s = io?.sockets.sockets.get(id)
      if (s) sockets.push(s)
    }
    return sockets
  }

  return {
    listen(port) {
      http = createServer()
      io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false })
      io.on('connection', onConnection)
      const server = http
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          const address = server.address()
          resolve(typeof address === 'object' && address ? address.port : port)
        })
      })
    },
    async blast(room, count) {
      const target = members(room)
      if (!io || target.length === 0) throw new Error(`no room '${room}' to blast`)
      for (let i = 0; i < count; i++) {
        const seq = nextSeq(room)
        io.to(room).emit('message', {
          room,
          event: 'tick',
          data: { t: performance.now(), i },
          from: 'server',
          seq,
          ts: Date.now(),
        })
        if (i % 256 === 255) {
          await yieldToIo()
          while (target.some((s) => queued(s) > BLAST_HIGH_WATER_PACKETS)) await yieldToIo()
        }
      }
    },
    connectionCount: () => io?.engine.clientsCount ?? 0,
    close() {
      return new Promise((resolve) => {
        if (!io) return resolve()
        io.close(() => resolve())
      })
    },
  }
}

/** Packets waiting in engine.io's queue for one socket (a field its typings mark private). */
function queued(socket: Socket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length
}
