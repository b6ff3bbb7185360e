import type { AddressInfo } from 'node:net'
import { SUBPROTOCOL } from '@roomwire/protocol'
import { type WebSocket, WebSocketServer } from 'ws'

/** What a script gets for one connection: send raw text or bytes, and read what the client sent. */
export interface ScriptedConnection {
  readonly index: number
  send(frame: string | Buffer | Record<string, unknown>): void
  welcome(id?: string): void
  /** Resolves with the next frame of `type` the client sends. */
  next(type: string): Promise<Record<string, unknown>>
  close(code?: number): void
}

export interface HostileServer {
  readonly url: string
  close(): Promise<void>
}

/**
 * A real WebSocket server on 127.0.0.1, port 0, that plays whatever the test scripts, frame by frame,
 * with no protocol checks of its own: a hostile or broken roomwire server.
 */
export async function startHostileServer(
  script: (connection: ScriptedConnection) => void,
): Promise<HostileServer> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  let connections = 0
  wss.on('connection', (socket: WebSocket) => {
    const received: Array<Record<string, unknown>> = []
    const waiters: Array<{ type: string; resolve: (m: Record<string, unknown>) => void }> = []
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>
      const waiter = waiters.findIndex((w) => w.type === frame.type)
      if (waiter === -1) received.push(frame)
      else waiters.splice(waiter, 1)[0]!.resolve(frame)
    })
    socket.on('error', () => {})
    const connection: ScriptedConnection = {
      index: connections++,
      send: (frame) =>
        socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
      welcome: (id = `c${connection.index + 1}`) =>
        connection.send({
          type: 'welcome',
          id,
          protocol: 1,
          heartbeat: { interval: 30_000, timeout: 10_000 },
          limits: { maxMessageBytes: 65_536, maxRoomsPerConnection: 10 },
        }),
      next: (type) => {
        const index = received.findIndex((m) => m.type === type)
        if (index !== -1) return Promise.resolve(received.splice(index, 1)[0]!)
        return new Promise((resolve) => waiters.push({ type, resolve }))
      },
      close: (code) => socket.close(code),
    }
    script(connection)
  })
  const { port } = wss.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  }
}

/** `{"type": [[[…]]]}` nesting `depth` levels in `type`: the frame that crashed v0.1 at 4,110. */
export function deepType(depth: number): string {
  return `{"type":${'['.repeat(depth)}${']'.repeat(depth)}}`
}

/** A JSON value nesting `depth` levels of arrays. */
export function deepValue(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`
}
