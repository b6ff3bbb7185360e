import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { EventNameSchema, fieldNameBefore, findNestingOverflow, RoomNameSchema } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { AdapterHealth, RoomAdapter } from './adapter'
import type { Clock } from './clock'
import { isRoomServerError } from './errors'
import type { HistoryStore } from './history-store'
import { serveStatic } from './static-files'

/** What the HTTP routes need from the server. */
export interface HttpRouteDeps {
  registry: Registry
  /** The server's clock: the drain of a refused body is timed on it. */
  clock: Clock
  adminToken: string | undefined
  staticDir: string | undefined
  /** Largest request body read; larger ones get 413. */
  maxBodyBytes: number
  /** How deep a body's JSON may nest (one level more than a payload: the `{ event, data }` object). */
  maxNestingDepth: number
  log: Logger
  health: () => Record<string, unknown>
  broadcast: (room: string, event: string, data: unknown) => Promise<{ seq: number }>
  roomInfo: (room: string) => Promise<unknown>
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(text)
}

function tokenMatches(header: string | undefined, expected: string): boolean {
  if (header === undefined || !/^bearer /i.test(header)) return false
  const given = Buffer.from(header.slice(7).trim())
  const wanted = Buffer.from(expected)
  // Compare in constant time; the length check leaks only the length.
  return given.length === wanted.length && timingSafeEqual(given, wanted)
}

/** How long the rest of a refused body may take to arrive before the socket is dropped. */
const DRAIN_TIMEOUT_MS = 5_000

/** A request body: its text, `too_large` past `maxBytes`, or `failed` when the request broke off. */
type Body = { ok: true; text: string } | { ok: false; reason: 'too_large' | 'failed' }

/**
 * Read a request body of at most `maxBytes`. A declared `Content-Length` over it is refused at once;
 * a body that grows past it stops being kept (what is left is read and dropped, see {@link refuseBody}).
 */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Body> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.resolve({ ok: false, reason: 'too_large' })
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) {
        chunks.push(chunk)
        return
      }
      request.off('data', onData)
      chunks.length = 0
      resolve({ ok: false, reason: 'too_large' })
    }
    request.on('data', onData)
    request.on('end', () => resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') }))
    request.on('error', () => resolve({ ok: false, reason: 'failed' }))
  })
}

/**
 * Answer 413, then close, the way nginx's lingering close does: the rest of the body is read and dropped
 * first (for at most 5 s), because closing a socket with unread data makes the kernel send a reset, and the
 * client then sees a reset instead of the answer (a 10 MB admin body did, issue 12). The answer goes out
 * at once; `Connection: close` is not set, since Node would then close before the body is drained.
 */
function refuseBody(
  request: IncomingMessage,
  response: ServerResponse,
  maxBytes: number,
  clock: Clock,
): void {
  sendJson(response, 413, { error: `body is larger than the limit of ${maxBytes} bytes` })
  const socket = request.socket
  const timer = clock.setTimeout(() => socket.destroy(), DRAIN_TIMEOUT_MS)
  const close = () => {
    clock.clearTimeout(timer)
    socket.end()
  }
  if (request.complete) close()
  else {
    request.once('end', close)
    request.once('close', () => clock.clearTimeout(timer))
    request.resume()
  }
}

/**
 * The server's HTTP routes: `GET /health`, `GET /metrics`, the admin API under `/rooms/:room`, and static
 * files. Resolves false when no route matched (the caller answers 404 or passes the request on).
 */
export function createHttpHandler(
  deps: HttpRouteDeps,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  async function admin(
    request: IncomingMessage,
    response: ServerResponse,
    rest: string,
    adminToken: string,
  ): Promise<void> {
    if (!tokenMatches(request.headers.authorization, adminToken)) {
      response.setHeader('www-authenticate', 'Bearer')
      return sendJson(response, 401, { error: 'missing or wrong admin token' })
    }
    const broadcast = rest.endsWith('/broadcast')
    let room: string
    try {
      room = decodeURIComponent(broadcast ? rest.slice(0, -'/broadcast'.length) : rest)
    } catch {
      return sendJson(response, 400, { error: 'room: is not a valid percent-encoded name' })
    }
    if (!RoomNameSchema.safeParse(room).success) {
      return sendJson(response, 400, {
        error: 'room: must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @',
      })
    }
    if (!broadcast && request.method === 'GET') {
      const info = await deps.roomInfo(room)
      return info === null
        ? sendJson(response, 404, { error: `room ${room} not found` })
        : sendJson(response, 200, info)
    }
    if (!broadcast || request.method !== 'POST')
      return sendJson(response, 405, { error: 'method not allowed' })
    const body = await readBody(request, deps.maxBodyBytes)
    if (!body.ok) {
      if (body.reason === 'too_large') return refuseBody(request, response, deps.maxBodyBytes, deps.clock)
      return sendJson(response, 400, { error: 'the request body broke off' })
    }
    // Nesting is bounded on the text, before JSON.parse builds a value every later step would recurse into.
    const overflow = findNestingOverflow(body.text, deps.maxNestingDepth + 1)
    if (overflow !== undefined) {
      const field = overflow.field === 0 ? undefined : fieldNameBefore(body.text, overflow.field)
      return sendJson(response, 400, {
        error: `${field === 'data' ? 'data' : 'body'}: must not nest more than ${deps.maxNestingDepth} levels deep`,
      })
    }
    let input: unknown
    try {
      input = JSON.parse(body.text)
    } catch {
      return sendJson(response, 400, { error: 'body must be JSON: { "event": string, "data": any }' })
    }
    const event = (input as { event?: unknown } | null)?.event
    const data = (input as { data?: unknown } | null)?.data
    if (!EventNameSchema.safeParse(event).success) {
      return sendJson(response, 400, { error: 'event: must be 1 to 64 characters of A-Z a-z 0-9 _ - . :' })
    }
    if (data === undefined) return sendJson(response, 400, { error: 'data: is required' })
    try {
      const { seq } = await deps.broadcast(room, event as string, data)
      return sendJson(response, 200, { room, seq })
    } catch (cause) {
      if (isRoomServerError(cause) && cause.code === 'invalid_argument') {
        return sendJson(response, 400, { error: cause.message })
      }
      throw cause
    }
  }

  return async (request, response) => {
    const url = request.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    try {
      if (path === '/health' && (request.method === 'GET' || request.method === 'HEAD')) {
        sendJson(response, 200, deps.health())
        return true
      }
      if (path === '/metrics' && request.method === 'GET') {
        const text = await deps.registry.metrics()
        response.writeHead(200, { 'content-type': deps.registry.contentType })
        response.end(text)
        return true
      }
      // Only while the admin API is on: an embedding app's own /rooms/... routes are its own otherwise.
      if (path.startsWith('/rooms/') && deps.adminToken !== undefined) {
        await admin(request, response, path.slice('/rooms/'.length), deps.adminToken)
        return true
      }
      if (deps.staticDir !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
        return await serveStatic(deps.staticDir, request, response, path)
      }
      return false
    } catch (cause) {
      deps.log.error({ err: cause, path }, 'http request failed')
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' })
      else response.destroy()
      return true
    }
  }
}

/** The adapter's store and the history store together: down while either is. */
export function storeHealth(adapter: RoomAdapter, historyStore: HistoryStore | undefined): AdapterHealth {
  const cluster = adapter.health?.()
  if (cluster?.up === false) return cluster
  return historyStore?.health() ?? { up: true }
}

/** `GET /health`: `closing` once shutting down, `degraded` while the adapter's or history store is down. */
export function healthOf(
  adapter: RoomAdapter,
  historyStore: HistoryStore | undefined,
  accepting: boolean,
  connections: number,
  rooms: number,
): Record<string, unknown> {
  const store = storeHealth(adapter, historyStore)
  const status = !accepting ? 'closing' : store?.up === false ? 'degraded' : 'ok'
  const stats = adapter.stats?.()
  const body: Record<string, unknown> = { status, connections, rooms }
  // Empty rooms kept for resume cost memory too (issue 12: 72,500 of them while this said rooms: 0).
  if (stats !== undefined) {
    body.idleRooms = stats.idleRooms
    body.historyBytes = stats.historyBytes
  }
  if (store?.up === false) body.reason = store.reason
  return body
}
