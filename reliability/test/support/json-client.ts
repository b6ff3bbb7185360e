import type { ServerMessage } from '@roomwire/protocol'
import WebSocket from 'ws'

/** A raw JSON client on `ws`: it records every server message and waits for the ones a test needs. */
export interface JsonClient {
  readonly ws: WebSocket
  readonly messages: ServerMessage[]
  readonly id: string
  readonly closed: Promise<{ code: number; reason: string }>
  send(message: unknown): void
  sendRaw(data: string | Buffer, binary?: boolean): void
  /** The first message (from index `from` on) satisfying `predicate`. */
  waitFor(predicate: (m: ServerMessage) => boolean, timeoutMs?: number, from?: number): Promise<ServerMessage>
  /** Send a ping with a fresh ref and resolve with the round-trip time in ms. */
  roundTrip(timeoutMs?: number): Promise<number>
  close(): Promise<void>
}

let refs = 0

export interface JsonClientOptions {
  headers?: Record<string, string>
  /** Join this room once welcomed and wait for `joined`. */
  join?: string
  protocols?: string[]
}

/** Connect, wait for `welcome` (and `joined` when asked). */
export async function connectJson(url: string, options: JsonClientOptions = {}): Promise<JsonClient> {
  const ws = new WebSocket(url, options.protocols ?? ['roomwire.v1'], { headers: options.headers ?? {} })
  ws.on('error', () => {})
  const messages: ServerMessage[] = []
  const waiters = new Set<{ predicate: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }>()
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  ws.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as ServerMessage
    messages.push(message)
    for (const waiter of waiters) {
      if (waiter.predicate(message)) {
        waiters.delete(waiter)
        waiter.resolve(message)
      }
    }
  })
  const client: JsonClient = {
    ws,
    messages,
    id: '',
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    sendRaw: (data, binary = false) => ws.send(data, { binary }),
    waitFor(predicate, timeoutMs = 5000, from = 0) {
      const found = messages.slice(from).find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (m: ServerMessage) => {
            clearTimeout(timer)
            resolve(m)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(
            new Error(
              `no matching message within ${timeoutMs} ms; last: ${JSON.stringify(messages.slice(-3))}`,
            ),
          )
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
    async roundTrip(timeoutMs = 5000) {
      const ref = `rt${refs++}`
      const start = performance.now()
      client.send({ type: 'ping', ref })
      await client.waitFor((m) => m.type === 'pong' && m.ref === ref, timeoutMs, messages.length)
      return performance.now() - start
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return
      ws.terminate()
      await closed
    },
  }
  const welcome = await Promise.race([
    client.waitFor((m) => m.type === 'welcome'),
    closed.then(({ code }) => {
      throw new Error(`closed with ${code} before welcome`)
    }),
  ])
  ;(client as { id: string }).id = (welcome as { id: string }).id
  if (options.join !== undefined) {
    const room = options.join
    client.send({ type: 'join', room, ref: `join-${room}` })
    await client.waitFor((m) => m.type === 'joined' && m.room === room)
  }
  return client
}
