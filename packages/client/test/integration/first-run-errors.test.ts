import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRoomServer } from '@roomwire/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { createClient, type WebSocketConstructor } from '../../src/index'

// What a new user meets first: a mistyped URL, a missing token, a path with no WebSocket behind it.
const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

describe('first-run errors say what is wrong', () => {
  it.each([
    ['localhost:9101', 'has no ws:// or wss:// scheme'],
    ['ftp://localhost:9101/ws', 'has no ws:// or wss:// scheme'],
    ['/ws', 'is not a URL'],
    ['ws://', 'is not a URL'],
  ])('createClient refuses the url %s at once', (url, says) => {
    expect(() => createClient({ url, autoConnect: false })).toThrow(says)
  })

  it('names the server reason of a 4001: a token was required and none was sent', async () => {
    const server = createRoomServer({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      auth: { required: true, jwtSecret: 'a-secret-of-at-least-32-bytes-long!' },
    })
    await server.ready
    cleanup.push(() => server.close())
    const { port } = server.address() as AddressInfo
    const client = createClient({ url: `ws://127.0.0.1:${port}/ws`, logger: { error: () => {} } })
    cleanup.push(() => client.close())
    await vi.waitFor(() => expect(client.status).toBe('unauthorized'))
    expect(client.getSnapshot().lastError?.message).toBe('the server refused the token (4001: token missing)')
  })

  it('names the HTTP status of an upgrade the server answered without a WebSocket', async () => {
    const http: Server = createServer((_req, res) => res.writeHead(404).end('not here'))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise((resolve) => http.close(resolve)))
    const { port } = http.address() as AddressInfo
    const client = createClient({
      url: `ws://127.0.0.1:${port}/nothing`,
      // What Node 20 uses (isomorphic-ws); undici's WebSocket (Node 22's global) says no more than
      // "non-101 status code", and a browser says nothing at all.
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      reconnect: { initialMs: 10_000, maxMs: 10_000 },
      logger: { error: () => {} },
    })
    cleanup.push(() => client.close())
    await vi.waitFor(() => expect(client.getSnapshot().lastError?.message).toContain('404'))
    expect(client.getSnapshot()).toMatchObject({ attempt: 1, lastError: { code: 'connection_lost' } })
  })
  it("names what a token provider's rejection said: a relative fetch under Node", async () => {
    const client = createClient({
      url: 'ws://127.0.0.1:1/ws',
      // A browser app's provider run in Node (tests, SSR): fetch has no page to resolve '/token' against.
      token: async () => (await fetch('/token')).text(),
      reconnect: { initialMs: 10_000, maxMs: 10_000 },
      logger: { error: () => {} },
    })
    cleanup.push(() => client.close())
    await vi.waitFor(() => expect(client.getSnapshot().lastError).toBeTruthy())
    const { lastError } = client.getSnapshot()
    expect(lastError).toMatchObject({ code: 'token' })
    expect(lastError?.message).toMatch(/^the token provider rejected: .*Failed to parse URL from \/token/)
  })
})
