import { createServer, type IncomingMessage, type Server } from 'node:http'
import { Writable } from 'node:stream'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AuthOutcome, createAuthenticator } from '../src/auth'
import { jwtAuthenticate } from '../src/index'
import { startTestServer, TestClient } from './helpers'
import { manualClock } from './manual-clock'

const secret = 'test-secret-with-enough-length-0123456789'
const key = new TextEncoder().encode(secret)

function hs256(
  claims: Record<string, unknown>,
  expiresIn: string | number = '1h',
  signKey = key,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(signKey)
}

function unsigned(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}.`
}

describe('JWT with an HS256 secret', () => {
  it('accepts a valid token from ?token= and makes its sub the user', async () => {
    await using server = await startTestServer({ auth: { required: true, jwtSecret: secret } })
    await using alice = await server.connect({ query: `token=${await hs256({ sub: 'alice' })}`, join: 'r' })
    expect(alice.received('welcome')[0]?.user).toBe('alice')
    expect(alice.received('joined')[0]?.members).toEqual([{ id: alice.id, user: 'alice' }])
  })

  it('accepts a token from Authorization: Bearer', async () => {
    await using server = await startTestServer({ auth: { required: true, jwtSecret: secret } })
    await using bob = await server.connect({
      headers: { authorization: `Bearer ${await hs256({ sub: 'bob' })}` },
    })
    expect(bob.received('welcome')[0]?.user).toBe('bob')
  })

  it.each([
    ['missing', async () => undefined],
    ['expired', async () => hs256({ sub: 'a' }, Math.floor(Date.now() / 1000) - 60)],
    [
      'signed with another key',
      async () => hs256({ sub: 'a' }, '1h', new TextEncoder().encode('another-secret-another-secret-00')),
    ],
    ['alg none', async () => unsigned({ sub: 'a' })],
    ['malformed', async () => 'not.a.jwt'],
    ['without sub', async () => hs256({})],
  ])('closes with 4001 and no welcome when the token is %s', async (_name, make) => {
    await using server = await startTestServer({ auth: { required: true, jwtSecret: secret } })
    const token = await make()
    const client = await server.connect({
      welcome: false,
      ...(token === undefined ? {} : { query: `token=${token}` }),
    })
    const closed = await client.closed
    expect(closed.code).toBe(4001)
    expect(closed.reason).not.toBe('')
    expect(client.received('welcome')).toHaveLength(0)
  })

  it('accepts a token expired within the clock tolerance', async () => {
    await using server = await startTestServer({ auth: { jwtSecret: secret, clockToleranceMs: 30_000 } })
    const token = await hs256({ sub: 'late' }, Math.floor(Date.now() / 1000) - 5)
    await using client = await server.connect({ query: `token=${token}` })
    expect(client.received('welcome')[0]?.user).toBe('late')
  })

  it('allows anonymous connections when auth is not required, and still refuses a bad token', async () => {
    await using server = await startTestServer({ auth: { jwtSecret: secret } })
    await using anonymous = await server.connect()
    expect(anonymous.received('welcome')[0]?.user).toBeUndefined()
    const bad = await server.connect({ welcome: false, query: 'token=garbage' })
    expect((await bad.closed).code).toBe(4001)
  })
})

describe('JWT with a JWKS URL', () => {
  let jwks: Server
  let jwksUrl: string
  let privateKey: CryptoKey
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256')
    privateKey = pair.privateKey
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const address = jwks.address() as { port: number }
    jwksUrl = `http://127.0.0.1:${address.port}/.well-known/jwks.json`
  })
  afterAll(async () => {
    jwks.closeAllConnections()
    await new Promise((resolve) => jwks.close(resolve))
  })

  it('accepts a token signed by a key of the JWKS', async () => {
    await using server = await startTestServer({ auth: { required: true, jwksUrl } })
    const token = await new SignJWT({ sub: 'carol' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime('1h')
      .sign(privateKey)
    await using carol = await server.connect({ query: `token=${token}` })
    expect(carol.received('welcome')[0]?.user).toBe('carol')
  })

  it('refuses a token signed by a key not in the JWKS with 4001', async () => {
    await using server = await startTestServer({ auth: { required: true, jwksUrl } })
    const other = await generateKeyPair('ES256')
    const token = await new SignJWT({ sub: 'eve' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime('1h')
      .sign(other.privateKey)
    const eve = await server.connect({ welcome: false, query: `token=${token}` })
    expect((await eve.closed).code).toBe(4001)
  })
})

describe('the authenticate hook', () => {
  it('accepts what it returns as the user', async () => {
    await using server = await startTestServer({
      authenticate: async (req) => ({ user: String(req.headers['x-user']), data: { role: 'admin' } }),
      onConnect: (c) => {
        expect(c.data).toEqual({ role: 'admin' })
      },
    })
    await using dan = await server.connect({ headers: { 'x-user': 'dan' } })
    expect(dan.received('welcome')[0]?.user).toBe('dan')
  })

  it('refuses with 4001 when it returns null', async () => {
    await using server = await startTestServer({ authenticate: () => null })
    const client = await server.connect({ welcome: false })
    expect((await client.closed).code).toBe(4001)
  })

  it('closes with 1011 when it throws, and the server keeps serving', async () => {
    let calls = 0
    await using server = await startTestServer({
      authenticate: () => {
        if (calls++ === 0) throw new Error('database down')
        return {}
      },
    })
    const client = await server.connect({ welcome: false })
    expect((await client.closed).code).toBe(1011)
    await using next = await server.connect()
    expect(next.id).toMatch(/^c_/)
  })

  it('times out with 4001 when it never settles', async () => {
    await using server = await startTestServer({
      authenticate: () => new Promise(() => {}),
      authTimeoutMs: 100,
    })
    const client = await server.connect({ welcome: false })
    const closed = await client.closed
    expect(closed).toEqual({ code: 4001, reason: 'authentication timed out' })
  })
})

describe('the authentication timeout', () => {
  /** One turn of the event loop: what a settled promise chain does happens by then. */
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve))
  const request = (headers: Record<string, string> = {}) => ({ url: '/ws', headers }) as IncomingMessage

  /** Authenticate on `clock`, and tell what it came to so far. */
  function start(authenticate: ReturnType<typeof createAuthenticator>, headers?: Record<string, string>) {
    const state: { outcome: AuthOutcome | undefined } = { outcome: undefined }
    void authenticate(request(headers)).then((outcome) => {
      state.outcome = outcome
    })
    return state
  }

  it('gives up on an authenticate hook at exactly timeoutMs on the server clock, leaving no timer', async () => {
    const clock = manualClock()
    const authenticate = createAuthenticator({
      authenticate: () => new Promise(() => {}),
      auth: {},
      timeoutMs: 1000,
      clock,
    })
    const state = start(authenticate)
    expect(clock.pending).toBe(1)
    clock.advance(999)
    await turn()
    expect(state.outcome).toBeUndefined()
    clock.advance(1)
    await turn()
    expect(state.outcome).toEqual({ ok: false, reason: 'authentication timed out', unverified: true })
    expect(clock.pending).toBe(0)
  })

  it('clears its timer when the hook answers first', async () => {
    const clock = manualClock()
    const authenticate = createAuthenticator({
      authenticate: async () => ({ user: 'ann' }),
      auth: {},
      timeoutMs: 1000,
      clock,
    })
    const state = start(authenticate)
    await turn()
    expect(state.outcome).toMatchObject({ ok: true, user: 'ann' })
    expect(clock.pending).toBe(0)
  })

  it('gives up on JWKS keys that never come at exactly timeoutMs on the server clock', async () => {
    // A JWKS endpoint that takes the request and never answers.
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = silent.address() as { port: number }
      const clock = manualClock()
      const authenticate = createAuthenticator({
        authenticate: undefined,
        auth: { required: true, jwksUrl: `http://127.0.0.1:${port}/jwks.json` },
        timeoutMs: 60_000,
        clock,
      })
      const pair = await generateKeyPair('ES256')
      const token = await new SignJWT({ sub: 'gil' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setExpirationTime('1h')
        .sign(pair.privateKey)
      const state = start(authenticate, { authorization: `Bearer ${token}` })
      clock.advance(59_999)
      await turn()
      expect(state.outcome).toBeUndefined()
      clock.advance(1)
      await vi.waitFor(() => expect(state.outcome).toBeDefined(), { timeout: 2000 })
      expect(state.outcome).toEqual({ ok: false, reason: 'token keys are unavailable', unverified: true })
    } finally {
      silent.closeAllConnections()
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  it('closes the upgrade with 4001 when authTimeoutMs passes on the server clock', async () => {
    const clock = manualClock()
    let calls = 0
    await using server = await startTestServer({
      clock,
      // Longer than the test may take: only the server clock can end the wait.
      authTimeoutMs: 60_000,
      authenticate: () => {
        calls++
        return new Promise(() => {})
      },
    })
    const client = await server.connect({ welcome: false })
    await vi.waitFor(() => expect(calls).toBe(1))
    clock.advance(60_000)
    await expect(client.closed).resolves.toEqual({ code: 4001, reason: 'authentication timed out' })
  })
})

describe('origin', () => {
  const allowedOrigins = ['https://app.example.com']

  it('answers a foreign Origin with 403 before the upgrade', async () => {
    await using server = await startTestServer({ allowedOrigins })
    for (const origin of [
      'https://evil.example',
      'https://app.example.com.evil.com',
      'null',
      'https://app.example.com`',
    ]) {
      const client = new TestClient(server.url, { headers: { origin } })
      await expect(client.opened).rejects.toThrow('HTTP 403')
    }
    expect(server.server.connections()).toHaveLength(0)
  })

  it('accepts an Origin on the list and a request with no Origin', async () => {
    await using server = await startTestServer({ allowedOrigins })
    await using browser = await server.connect({ headers: { origin: 'https://app.example.com' } })
    await using tool = await server.connect()
    expect(server.server.connections()).toHaveLength(2)
    expect([browser.id, tool.id]).toHaveLength(2)
  })
})

describe('logs', () => {
  it('never contain the token, from the query or the header, and carry the connection id', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    const logger = pino({ level: 'trace' }, sink)
    await using server = await startTestServer({ logger, auth: { jwtSecret: secret } })
    const token = await hs256({ sub: 'alice' })
    const a = await server.connect({ query: `token=${token}`, join: 'r' })
    const b = await server.connect({ headers: { authorization: `Bearer ${token}` } })
    const bad = await server.connect({ welcome: false, query: 'token=secret-but-invalid' })
    await bad.closed
    await a.close()
    await b.close()
    await server.close()
    const text = lines.join('')
    expect(text).not.toContain(token)
    expect(text).not.toContain('secret-but-invalid')
    expect(text).toContain('token=[redacted]')
    const connected = lines
      .map((l) => JSON.parse(l) as { msg: string; conn?: string })
      .filter((l) => l.msg === 'connected')
    expect(connected.map((l) => l.conn).sort()).toEqual([a.id, b.id].sort())
  })
})

describe('jwtAuthenticate: the JWT check as a hook of its own', () => {
  it("composes with an app's hook: API keys beside JWTs", async () => {
    const jwt = jwtAuthenticate({ required: true, jwtSecret: secret })
    await using server = await startTestServer({
      authenticate: (request) =>
        request.headers['x-api-key'] === 'key-1' ? { user: 'service' } : jwt(request),
    })
    await using service = await server.connect({ headers: { 'x-api-key': 'key-1' } })
    expect(service.received('welcome')[0]?.user).toBe('service')
    await using alice = await server.connect({ query: `token=${await hs256({ sub: 'alice' })}` })
    expect(alice.received('welcome')[0]?.user).toBe('alice')
    for (const query of [undefined, 'token=garbage', `token=${unsigned({ sub: 'a' })}`]) {
      const refused = await server.connect({ welcome: false, ...(query === undefined ? {} : { query }) })
      expect((await refused.closed).code).toBe(4001)
    }
  })

  it('lets a connection without a token in anonymously unless required, as the server does', async () => {
    const request = { url: '/', headers: {} } as import('node:http').IncomingMessage
    expect(await jwtAuthenticate({ jwtSecret: secret })(request)).toEqual({
      user: undefined,
      data: undefined,
    })
    expect(await jwtAuthenticate({ jwtSecret: secret, required: true })(request)).toBeNull()
  })
})
