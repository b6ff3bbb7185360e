import type { WebSocket } from '@trufflesuite/uws-js-unofficial'
import { type BenchServer, yieldToIo } from './bench-server'
import type { ServerSettings } from './server-settings'
import { loadUws } from './uws-addon'

interface Peer {
  id: string
  rooms: Set<string>
}

const WELCOME_LIMITS = { maxMessageBytes: 65536, maxRoomsPerConnection: 10 }
const EPOCH = 'e_bench'
/**
 * Per-socket backpressure before uWS starts dropping a publish for that socket. Its default (64 KiB)
 * drops messages silently under saturation, which the harness would count as lost: the reference is
 * measured with room to spare, like raw ws (which never drops).
 */
const MAX_BACKPRESSURE = 64 * 1024 * 1024

/**
 * The C++ ceiling: uWebSockets.js (its native addon, never the JS fallback) speaking the same subset of
 * roomwire's JSON as the raw ws peer (`join`, `leave`, `publish`, `ping`), with rooms as uWS topics, so a
 * fan-out is one `publish` that uWS frames (and, with compression, deflates) once for every subscriber.
 */
export function createUwsServer(settings: ServerSettings = {}): BenchServer {
  const addon = loadUws()
  if (!addon.ok) throw new Error(`uWebSockets.js: ${addon.reason}`)
  const uws = addon.uws
  const seqs = new Map<string, number>()
  let connections = 0
  let nextId = 1
  let listenSocket: unknown
  const open = new Set<WebSocket<Peer>>()
  const compress = settings.compression === true
  const app = uws.App()

  function reply(ws: WebSocket<Peer>, msg: Record<string, unknown>): void {
    ws.send(JSON.stringify(msg), false, compress)
  }

  function handle(ws: WebSocket<Peer>, peer: Peer, msg: Record<string, unknown>): void {
    const ref = msg.ref
    const name = typeof msg.room === 'string' ? msg.room : ''
    switch (msg.type) {
      case 'join':
        ws.subscribe(name)
        peer.rooms.add(name)
        reply(ws, { type: 'joined', room: name, seq: seqs.get(name) ?? 0, epoch: EPOCH, members: [], ref })
        return
      case 'leave':
        ws.unsubscribe(name)
        peer.rooms.delete(name)
        reply(ws, { type: 'left', room: name, ref })
        return
      case 'publish': {
        if (!peer.rooms.has(name)) {
          reply(ws, { type: 'error', code: 'not_joined', message: 'join the room first', ref, room: name })
          return
        }
        const seq = (seqs.get(name) ?? 0) + 1
        seqs.set(name, seq)
        const frame = JSON.stringify({
          type: 'message',
          room: name,
          event: msg.event,
          data: msg.data,
          from: peer.id,
          seq,
          ts: Date.now(),
        })
        // ws.publish skips the publisher itself; app.publish reaches every subscriber.
        if (msg.echo === true) app.publish(name, frame, false, compress)
        else ws.publish(name, frame, false, compress)
        if (ref !== undefined) reply(ws, { type: 'ack', ref, seq })
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

  app.ws<Peer>('/ws', {
    compression: compress ? uws.SHARED_COMPRESSOR : uws.DISABLED,
    maxPayloadLength: 65536,
    maxBackpressure: MAX_BACKPRESSURE,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      res.upgrade<Peer>(
        { id: `c${nextId++}`, rooms: new Set() },
        req.getHeader('sec-websocket-key'),
        // The load generator asks for roomwire.v1 and requires it back.
        req.getHeader('sec-websocket-protocol').split(',')[0]!.trim(),
        req.getHeader('sec-websocket-extensions'),
        context,
      )
    },
    open: (ws) => {
      connections++
      open.add(ws)
      reply(ws, {
        type: 'welcome',
        id: ws.getUserData().id,
        protocol: 1,
        heartbeat: { interval: 30000, timeout: 10000 },
        limits: WELCOME_LIMITS,
      })
    },
    message: (ws, raw, isBinary) => {
      if (isBinary) return
      let msg: Record<string, unknown>
      try {
        msg = JSON.parse(Buffer.from(raw).toString())
      } catch {
        return
      }
      handle(ws, ws.getUserData(), msg)
    },
    close: (ws) => {
      connections--
      open.delete(ws)
    },
  })

  return {
    listen(port) {
      return new Promise((resolve, reject) => {
        app.listen('127.0.0.1', port, (token) => {
          if (!token) return reject(new Error(`uWS could not listen on 127.0.0.1:${port}`))
          listenSocket = token
          resolve(uws.us_socket_local_port(token as never))
        })
      })
    },
    async blast(room, count) {
      for (let i = 0; i < count; i++) {
        const seq = (seqs.get(room) ?? 0) + 1
        seqs.set(room, seq)
        app.publish(
          room,
          JSON.stringify({
            type: 'message',
            room,
            event: 'tick',
            data: { t: performance.now(), i },
            from: 'server',
            seq,
            ts: Date.now(),
          }),
          false,
          compress,
        )
        if (i % 256 === 255) await yieldToIo()
      }
    },
    connectionCount: () => connections,
    async close() {
      if (listenSocket) uws.us_listen_socket_close(listenSocket as never)
      for (const ws of open) ws.close()
      open.clear()
    },
  }
}
