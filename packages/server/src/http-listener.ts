import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { RoomServerError } from './errors'

/** Where the server's HTTP comes from: its own port, an application's server, or the application's upgrades. */
export type HostingMode =
  | { kind: 'port'; port: number; host: string; backlog: number }
  | { kind: 'attached'; server: HttpServer }
  | { kind: 'noServer' }

/**
 * Connections the kernel may hold for an own server before it drops SYNs. Node's own 511 overflows when
 * thousands of clients come back at once after a deploy; a dropped SYN is sent again only after 1 s, then
 * 3 s and 7 s, so the last of them waits seconds for a server that is idle by then (bench/NOTES.md,
 * "Connection storm"). The kernel caps it (Linux: net.core.somaxconn, 4096 by default since 5.4), as Go's
 * listeners do by reading that cap.
 */
export const DEFAULT_BACKLOG = 4096

/** The hosting mode of these options; exactly one of `port`, `server` and `noServer` is given. */
export function hostingMode(options: {
  port?: number
  host?: string
  backlog?: number
  server?: HttpServer
  noServer?: boolean
}): HostingMode {
  const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true]
  if (modes.filter(Boolean).length !== 1) {
    throw new RoomServerError('invalid_config', 'give exactly one of port, server or noServer')
  }
  const { backlog = DEFAULT_BACKLOG } = options
  if (!Number.isInteger(backlog) || backlog < 1) {
    throw new RoomServerError('invalid_config', `backlog must be a positive integer, got ${backlog}`)
  }
  if (options.port !== undefined) {
    return { kind: 'port', port: options.port, host: options.host ?? '0.0.0.0', backlog }
  }
  if (options.server !== undefined) return { kind: 'attached', server: options.server }
  return { kind: 'noServer' }
}

/** What the listener routes to. */
export interface ListenerRoutes {
  /** The WebSocket path (`/ws` by default). */
  readonly path: string
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean>
}

/** The HTTP side of a room server. */
export interface HttpListener {
  readonly httpServer: HttpServer | undefined
  /** Resolves once listening (at once when attached or `noServer`); rejects if `listen` failed. */
  readonly ready: Promise<void>
  address(): AddressInfo | null
  /** Stop taking upgrades: an own server stops listening, an attached one loses our upgrade listener. */
  stopAccepting(): void
  /** Close an own server's remaining sockets and wait until it closed; nothing to do otherwise. */
  destroy(): Promise<void>
}

export function abortHandshake(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Listen in `mode`: on an own server with slowloris timeouts and a 404 for unknown routes, on an
 * application's server beside its own upgrade handlers, or not at all (`noServer`: the application calls
 * `handleUpgrade`).
 */
export function listen(mode: HostingMode, routes: ListenerRoutes): HttpListener {
  const own = mode.kind === 'port'
  const httpServer =
    mode.kind === 'port' ? ownServer(routes) : mode.kind === 'attached' ? mode.server : undefined
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(request) === routes.path) return routes.handleUpgrade(request, socket, head)
    // Leave other paths to the application's own upgrade handlers, if it has any.
    if (own || (httpServer?.listenerCount('upgrade') ?? 0) <= 1) abortHandshake(socket, 404, 'Not Found')
  }
  httpServer?.on('upgrade', onUpgrade)
  const ready =
    mode.kind === 'port' && httpServer !== undefined
      ? new Promise<void>((resolve, reject) => {
          httpServer.once('error', reject)
          httpServer.listen({ port: mode.port, host: mode.host, backlog: mode.backlog }, () => {
            httpServer.off('error', reject)
            resolve()
          })
        })
      : Promise.resolve()
  let closed: Promise<void> = Promise.resolve()
  return {
    httpServer,
    ready,
    address() {
      const address = httpServer?.address()
      return address !== null && typeof address === 'object' ? address : null
    },
    stopAccepting() {
      if (httpServer === undefined) return
      // An own server's 'close' fires once the last socket is gone (destroy below).
      if (own) closed = new Promise<void>((resolve) => httpServer.close(() => resolve()))
      else httpServer.off('upgrade', onUpgrade)
    },
    async destroy() {
      if (!own) return
      httpServer?.closeAllConnections()
      await closed
    },
  }
}

function ownServer(routes: ListenerRoutes): HttpServer {
  // Node enforces headersTimeout only when it checks, every connectionsCheckingInterval (30 s by default):
  // a slow handshake would live up to 40 s instead of the 10 s below.
  const server = createServer({ connectionsCheckingInterval: 1_000 }, (request, response) => {
    void routes.handleRequest(request, response).then((handled) => {
      if (handled || response.headersSent) return
      if (pathOf(request) === routes.path) {
        // A plain request to the WebSocket path (curl, a browser tab): say what it is, not "not found".
        response.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
        response.end('this is a WebSocket endpoint: connect with a WebSocket client\n')
        return
      }
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      response.end('not found\n')
    })
  })
  // Node's 60 s default lets slow-header clients hold sockets far too long (slowloris).
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  server.on('clientError', (_err, socket) => socket.destroy())
  return server
}
