import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { createClient } from '@roomwire/client'
import { createRoomServer, type RoomServerOptions } from '@roomwire/server'
import { SignJWT } from 'jose'
import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { report } from './support/budget'
import { connectJson, type JsonClient } from './support/json-client'
import { rawRequest } from './support/ws-frames'

const SECRET = 'reliability-secret-of-at-least-32-bytes!'
const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function start(options: Omit<RoomServerOptions, 'port' | 'host'> = {}) {
  const server = createRoomServer({ port: 0, host: '127.0.0.1', ...options })
  await server.ready
  const port = (server.address() as AddressInfo).port
  let upgrades = 0
  server.httpServer!.on('upgrade', () => {
    upgrades++
  })
  cleanup.push(() => server.close({ timeoutMs: 500 }))
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    get upgrades() {
      return upgrades
    },
  }
}

async function join(url: string, room: string, headers?: Record<string, string>): Promise<JsonClient> {
  const client = await connectJson(url, headers === undefined ? { join: room } : { join: room, headers })
  cleanup.push(() => client.close())
  return client
}

const sign = (claims: Record<string, unknown>, secret = SECRET) => {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt()
  if (claims.sub !== undefined) jwt = jwt.setSubject(String(claims.sub))
  return jwt.sign(new TextEncoder().encode(secret))
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Tokens that must never get in, by name. */
async function badTokens(): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000)
  return {
    expired: await sign({ sub: 'mallory', exp: now - 3600 }),
    forged: await sign({ sub: 'mallory', exp: now + 3600 }, 'another-secret-of-at-least-32-bytes!!'),
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', exp: now + 3600 })}.`,
    notYetValid: await sign({ sub: 'mallory', nbf: now + 3600 }),
    noSub: await sign({ exp: now + 3600 }),
    malformed: 'not.a.jwt',
  }
}

function upgradeRequest(port: number, headers: Record<string, string>, query = ''): string {
  const lines = [
    `GET /ws${query} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ]
  return `${lines.join('\r\n')}\r\n\r\n`
}

describe('cross-site WebSocket hijacking', () => {
  it('refuses foreign and lookalike origins with 403 before the upgrade, and accepts the exact one', async () => {
    const { port, server } = await start({ allowedOrigins: ['https://app.example.com'] })
    const refused = [
      'https://evil.example',
      'https://app.example.com.evil.com',
      'https://evilapp.example.com',
      'https://app.example.co',
      'http://app.example.com',
      'https://app.example.com:443',
      'https://APP.example.com',
      'https://app.example.com/',
      'https://app.example.com`',
      'https://app.example.com$',
      'https://app.example.com%60.evil.com',
      'null',
      '',
    ]
    for (const origin of refused) {
      await expect(rawRequest(port, upgradeRequest(port, { Origin: origin })), origin).resolves.toBe(
        'HTTP/1.1 403 Forbidden',
      )
    }
    expect(server.connections()).toHaveLength(0)
    await expect(
      rawRequest(port, upgradeRequest(port, { Origin: 'https://app.example.com' })),
    ).resolves.toMatch(/^HTTP\/1.1 101/)
    // No Origin: not a browser, so no cross-site request to defend against (PROTOCOL.md).
    await expect(rawRequest(port, upgradeRequest(port, {}))).resolves.toMatch(/^HTTP\/1.1 101/)
  })
})

describe('tokens', () => {
  it('closes expired, forged, alg:none, not-yet-valid, sub-less and malformed tokens with 4001 and no welcome', async () => {
    const { url, server } = await start({ auth: { jwtSecret: SECRET, required: true } })
    const observer = await join(
      `${url}?token=${await sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 })}`,
      'r',
    )
    for (const [name, token] of Object.entries(await badTokens())) {
      for (const how of ['query', 'header'] as const) {
        const ws = await import('ws')
        const socket =
          how === 'query'
            ? new ws.WebSocket(`${url}?token=${encodeURIComponent(token)}`, ['roomwire.v1'])
            : new ws.WebSocket(url, ['roomwire.v1'], { headers: { Authorization: `Bearer ${token}` } })
        const frames: string[] = []
        socket.on('message', (raw) => frames.push(raw.toString()))
        socket.on('error', () => {})
        const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)))
        expect({ name, how, code, frames }).toEqual({ name, how, code: 4001, frames: [] })
      }
    }
    expect(observer.messages.filter((m) => m.type === 'member_joined')).toEqual([])
    expect(server.connections()).toHaveLength(1)
  })

  it('a client with a fixed bad token stops as unauthorized after one attempt', async () => {
    const srv = await start({ auth: { jwtSecret: SECRET, required: true } })
    const { expired } = await badTokens()
    const client = createClient({
      url: srv.url,
      token: expired!,
      reconnect: { initialMs: 10, maxMs: 20 },
      logger: { error: () => {} },
    })
    cleanup.push(() => client.close())
    await vi.waitFor(() => expect(client.status).toBe('unauthorized'))
    // A loop would make dozens of attempts in this time at a 10-20 ms backoff.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(srv.upgrades).toBe(1)
    expect(client.getSnapshot().closeCode).toBe(4001)
  })

  it('a client with a token function asks it once more after 4001, then stops', async () => {
    const srv = await start({ auth: { jwtSecret: SECRET, required: true } })
    const tokens = await badTokens()
    let calls = 0
    const client = createClient({
      url: srv.url,
      token: () => {
        calls++
        return calls === 1 ? tokens.forged! : tokens.algNone!
      },
      reconnect: { initialMs: 10, maxMs: 20 },
      logger: { error: () => {} },
    })
    cleanup.push(() => client.close())
    await vi.waitFor(() => expect(client.status).toBe('unauthorized'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect({ calls, upgrades: srv.upgrades }).toEqual({ calls: 2, upgrades: 2 })
  })
})

describe('per-room authorization', () => {
  const authorize: RoomServerOptions['authorize'] = (req) => {
    if (req.action === 'join') return !req.room.startsWith('admin/') || req.user === 'root'
    if (req.action === 'publish') return req.room !== 'readonly' || req.user === 'root'
    if (req.action === 'presence') return req.room !== 'quiet'
    return true
  }
  const authenticate: RoomServerOptions['authenticate'] = (req) => ({
    user: String(req.headers['x-user'] ?? 'guest'),
  })

  it('answers forbidden to a denied join, publish or presence, and broadcasts nothing', async () => {
    const { url, server } = await start({ authorize, authenticate })
    const root = await join(url, 'admin/ops', { 'x-user': 'root' })
    root.send({ type: 'join', room: 'readonly', ref: 'j1' })
    root.send({ type: 'join', room: 'quiet', ref: 'j2' })
    await root.waitFor((m) => m.type === 'joined' && m.room === 'quiet')
    const mallory = await join(url, 'readonly', { 'x-user': 'mallory' })
    mallory.send({ type: 'join', room: 'quiet', ref: 'q' })
    await mallory.waitFor((m) => m.type === 'joined' && m.room === 'quiet')
    // Membership changes go out batched at the end of a turn: let root see mallory arrive first.
    await root.waitFor((m) => m.type === 'member_joined' && m.room === 'quiet')
    const mark = root.messages.length

    mallory.send({ type: 'join', room: 'admin/ops', ref: 1 })
    mallory.send({ type: 'publish', room: 'readonly', event: 'chat', data: 'spam', ref: 2 })
    mallory.send({ type: 'presence', room: 'quiet', state: { status: 'loud' }, ref: 3 })
    for (const ref of [1, 2, 3]) {
      await expect(mallory.waitFor((m) => 'ref' in m && m.ref === ref)).resolves.toMatchObject({
        type: 'error',
        code: 'forbidden',
      })
    }
    // A probe after the refusals: the root member saw nothing in between.
    root.send({ type: 'publish', room: 'readonly', event: 'chat', data: 'probe', echo: true, ref: 'p' })
    await root.waitFor((m) => m.type === 'message' && m.data === 'probe', 2000, mark)
    const seen = root.messages.slice(mark).filter((m) => m.type !== 'ack')
    expect(seen).toEqual([expect.objectContaining({ type: 'message', data: 'probe' })])
    expect((await server.roomInfo('admin/ops'))?.memberCount).toBe(1)
  })
})

describe('rate limits', () => {
  it('answers rate_limited past the burst, closes with 1008 when it persists, and other rooms are unaffected', async () => {
    const { url } = await start({ rateLimitPerSec: 10, rateLimitBurst: 20 })
    const flooder = await join(url, 'flood')
    const witness = await join(url, 'calm')
    const baseline = await witness.roundTrip()
    for (let i = 0; i < 200; i++)
      flooder.send({ type: 'publish', room: 'flood', event: 'e', data: i, ref: i })
    const closed = await flooder.closed
    const limited = flooder.messages.filter((m) => m.type === 'error' && m.code === 'rate_limited')
    const acked = flooder.messages.filter((m) => m.type === 'ack')
    const during = await witness.roundTrip()
    report('security: rate limit', {
      sent: 200,
      acked: acked.length,
      rateLimited: limited.length,
      closeCode: closed.code,
      witnessRttMs: Math.round(during),
      baselineRttMs: Math.round(baseline),
    })
    // At most the burst (plus a token or two refilled) got through; some acks are lost to the close itself.
    expect(acked.length).toBeGreaterThan(0)
    expect(acked.length).toBeLessThan(25)
    expect(limited.length).toBeGreaterThanOrEqual(20)
    expect(closed.code).toBe(1008)
    expect(during).toBeLessThan(500)
  })
})

describe('logs', () => {
  it('never contain a token, from the query, the Authorization header or the SDK client, even at debug level', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    const logger = pino({ level: 'trace' }, sink)
    const srv = await start({
      auth: { jwtSecret: SECRET },
      logger,
      allowedOrigins: ['https://app.example.com'],
    })
    const exp = Math.floor(Date.now() / 1000) + 600
    const tokens = {
      ...(await badTokens()),
      good: await sign({ sub: 'alice', exp }),
      good2: await sign({ sub: 'bob', exp }),
    }
    const ws = await import('ws')
    const attempt = (socket: InstanceType<typeof ws.WebSocket>) =>
      new Promise<void>((resolve) => {
        socket.on('error', () => {})
        socket.on('message', () => socket.close())
        socket.on('close', () => resolve())
      })
    for (const token of Object.values(tokens)) {
      await attempt(new ws.WebSocket(`${srv.url}?token=${encodeURIComponent(token)}&x=1`, ['roomwire.v1']))
      await attempt(
        new ws.WebSocket(srv.url, ['roomwire.v1'], { headers: { Authorization: `Bearer ${token}` } }),
      )
      await attempt(
        new ws.WebSocket(`${srv.url}?token=${encodeURIComponent(token)}`, ['roomwire.v1'], {
          headers: { Origin: 'https://evil.example' },
        }),
      )
    }
    const client = createClient({ url: srv.url, token: () => tokens.good2, logger: { error: () => {} } })
    cleanup.push(() => client.close())
    const room = client.join('r')
    await room.ready
    await room.publish('e', { text: 'hello' })
    client.close()
    await vi.waitFor(() => expect(srv.server.connections()).toHaveLength(0))
    const log = lines.join('')
    report('security: logs', { lines: lines.length, bytes: log.length })
    expect(lines.length).toBeGreaterThan(20)
    expect(log).toContain('[redacted]')
    for (const [name, token] of Object.entries(tokens)) {
      // Neither the whole token nor its signature (the secret part) appears anywhere.
      expect(log.includes(token), name).toBe(false)
      const signature = token.split('.')[2]
      if (signature) expect(log.includes(signature), `${name} signature`).toBe(false)
    }
  })
})
