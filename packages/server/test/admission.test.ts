import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import type { RoomServerOptions } from '../src/index'
import { startTestServer, type TestServer } from './helpers'

/** Who connects: `x-user` names the user; without it the upgrade is refused with 4001. */
const authenticate: RoomServerOptions['authenticate'] = (req) => {
  const user = req.headers['x-user']
  return typeof user === 'string' ? { user } : null
}

async function closeCode(server: TestServer, headers: Record<string, string> = {}) {
  const client = await server.connect({ welcome: false, headers })
  const closed = await client.closed
  return { code: closed.code, reason: closed.reason, welcomed: client.received('welcome').length > 0 }
}

// Every test client connects from 127.0.0.1, which is never capped (the host itself, or a local proxy):
// a trusted proxy's X-Forwarded-For stands for a remote client.
const proxied = { trustedProxies: ['127.0.0.1'] }
const from = (address: string) => ({ 'x-forwarded-for': address })

describe('connections per address', () => {
  it('closes connections past maxConnectionsPerAddress with 1013 and no welcome, and takes one again once a slot is free', async () => {
    await using server = await startTestServer({ ...proxied, maxConnectionsPerAddress: 3 })
    const headers = from('203.0.113.9')
    const open = await Promise.all([1, 2, 3].map(() => server.connect({ headers })))
    await expect(closeCode(server, headers)).resolves.toEqual({
      code: 1013,
      reason: 'too many connections from this address; try again later',
      welcomed: false,
    })
    await open[0]!.close()
    await vi.waitFor(async () => {
      const next = await server.connect({ welcome: false, headers })
      await expect(next.next('welcome', () => true, 500)).resolves.toBeDefined()
    })
    expect(server.server.connections()).toHaveLength(3)
    expect(await server.server.metrics.getSingleMetricAsString('roomwire_upgrades_refused_total')).toMatch(
      /reason="address_cap"} [1-9]/,
    )
  })

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', async () => {
    await using server = await startTestServer()
    await using _client = await server.connect({ headers: from('203.0.113.1') })
    expect(server.server.connections().map((c) => c.remoteAddress)).toEqual(['127.0.0.1'])
  })

  it('never caps or backs off loopback peers', async () => {
    await using server = await startTestServer({
      authenticate,
      maxConnectionsPerAddress: 1,
      authFailuresPerAddress: 1,
    })
    for (let i = 0; i < 3; i++) await expect(closeCode(server)).resolves.toMatchObject({ code: 4001 })
    const clients = await Promise.all([1, 2, 3].map(() => server.connect({ headers: { 'x-user': 'u' } })))
    expect(clients.every((c) => c.id.startsWith('c_'))).toBe(true)
  })

  it('counts clients behind a trusted proxy by the address X-Forwarded-For names', async () => {
    await using server = await startTestServer({ ...proxied, maxConnectionsPerAddress: 1 })
    await using _a = await server.connect({ headers: { 'x-forwarded-for': '203.0.113.1' } })
    await using _b = await server.connect({ headers: { 'x-forwarded-for': '203.0.113.2' } })
    await expect(closeCode(server, { 'x-forwarded-for': '203.0.113.1' })).resolves.toMatchObject({
      code: 1013,
    })
    expect(
      server.server
        .connections()
        .map((c) => c.remoteAddress)
        .sort(),
    ).toEqual(['203.0.113.1', '203.0.113.2'])
  })

  it('reads X-Forwarded-For from the right, past trusted hops, never believing what the client wrote', async () => {
    await using server = await startTestServer({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] })
    // The client wrote 1.1.1.1; the edge proxy appended the client's real address, an inner proxy its own.
    await using _client = await server.connect({
      headers: { 'x-forwarded-for': '1.1.1.1, 198.51.100.7, 10.1.2.3' },
    })
    expect(server.server.connections().map((c) => c.remoteAddress)).toEqual(['198.51.100.7'])
  })

  it('counts IPv6 clients by their /64', async () => {
    await using server = await startTestServer({ ...proxied, maxConnectionsPerAddress: 1 })
    await using _first = await server.connect({ headers: { 'x-forwarded-for': '2001:db8:1:2::1' } })
    await expect(closeCode(server, { 'x-forwarded-for': '2001:db8:1:2:ffff::9' })).resolves.toMatchObject({
      code: 1013,
    })
    await using other = await server.connect({ headers: { 'x-forwarded-for': '2001:db8:1:3::1' } })
    expect(other.id).toMatch(/^c_/)
  })
})

describe('failed-auth backoff', () => {
  it('refuses an address with 1013 for a growing time after repeated failures, valid identities included', async () => {
    let t = 1_000_000
    await using server = await startTestServer({
      ...proxied,
      authenticate,
      now: () => t,
      authFailuresPerAddress: 3,
      authFailureWindowMs: 60_000,
      authBackoffMs: 5_000,
      authBackoffMaxMs: 300_000,
    })
    const mallory = from('198.51.100.66')
    const alice = { ...mallory, 'x-user': 'alice' }
    for (let i = 0; i < 4; i++)
      await expect(closeCode(server, mallory)).resolves.toMatchObject({ code: 4001 })
    const refused = {
      code: 1013,
      reason: 'too many failed authentications from this address; try again later',
      welcomed: false,
    }
    await expect(closeCode(server, alice)).resolves.toEqual(refused)
    // Another address is not affected.
    await using bob = await server.connect({ headers: { ...from('198.51.100.67'), 'x-user': 'bob' } })
    expect(bob.id).toMatch(/^c_/)
    t += 5_000
    await using first = await server.connect({ headers: alice })
    expect(first.received('welcome')[0]?.user).toBe('alice')
    // Failing again soon after doubles the backoff.
    for (let i = 0; i < 4; i++)
      await expect(closeCode(server, mallory)).resolves.toMatchObject({ code: 4001 })
    t += 9_999
    await expect(closeCode(server, alice)).resolves.toEqual(refused)
    t += 1
    await using again = await server.connect({ headers: alice })
    expect(again.id).toMatch(/^c_/)
    expect(await server.server.metrics.getSingleMetricAsString('roomwire_upgrades_refused_total')).toMatch(
      /reason="auth_backoff"} 2$/m,
    )
  })

  it('does not hold failures the client cannot help (a timed-out authenticate) against its address', async () => {
    await using server = await startTestServer({
      authenticate: () => new Promise(() => {}),
      authTimeoutMs: 20,
      authFailuresPerAddress: 1,
    })
    for (let i = 0; i < 3; i++) {
      await expect(closeCode(server)).resolves.toMatchObject({
        code: 4001,
        reason: 'authentication timed out',
      })
    }
  })
})

describe('log lines about refusals', () => {
  it('are at most 20 per 10 s, and the next one says how many were left out', async () => {
    const lines: { msg: string; suppressed?: number; url?: string }[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()))
        done()
      },
    })
    let t = 1_000_000
    await using server = await startTestServer({
      authenticate,
      now: () => t,
      logger: pino({ level: 'info' }, sink),
      authFailuresPerAddress: 0,
    })
    for (let i = 0; i < 50; i++) await closeCode(server)
    const refused = () => lines.filter((l) => l.msg === 'connection refused')
    expect(refused()).toHaveLength(20)
    t += 10_000
    await closeCode(server)
    expect(refused()).toHaveLength(21)
    expect(refused()[20]).toMatchObject({ suppressed: 30 })
    expect(await server.server.metrics.getSingleMetricAsString('roomwire_auth_failures_total')).toMatch(
      / 51$/m,
    )
  })
})

describe('tokens in logged URLs', () => {
  it('are redacted however the name is spelled, as long as the server reads it as the token', async () => {
    const { SignJWT } = await import('jose')
    const secret = 'edge-secret-with-enough-length-0123456789'
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret))
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    await using server = await startTestServer({
      logger: pino({ level: 'info' }, sink),
      auth: { jwtSecret: secret },
    })
    await using alice = await server.connect({ query: `%74oken=${token}` })
    expect(alice.received('welcome')[0]?.user).toBe('alice')
    const bad = await server.connect({ welcome: false, query: 'x=1&tok%65n=not-a-jwt-but-secret' })
    expect((await bad.closed).code).toBe(4001)
    const text = lines.join('')
    expect(text).not.toContain(token.split('.')[2])
    expect(text).not.toContain('not-a-jwt-but-secret')
    expect(text).toContain('%74oken=[redacted]')
    expect(text).toContain('tok%65n=[redacted]')
  })
})
