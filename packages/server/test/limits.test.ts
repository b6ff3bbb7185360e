import { describe, expect, it, vi } from 'vitest'
import { startTestServer, TestClient } from './helpers'

describe('malformed input', () => {
  it('answers text that is not JSON with bad_request and keeps the connection', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    alice.sendRaw('{"type":"join"')
    await expect(alice.next('error')).resolves.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('JSON'),
    })
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
  })

  it('answers a message of the wrong shape with bad_request naming the field and carrying its ref', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    alice.send({ type: 'join', room: 'a b', ref: 7 })
    await expect(alice.next('error')).resolves.toMatchObject({
      code: 'bad_request',
      ref: 7,
      message: expect.stringContaining('room'),
    })
  })

  it('answers since without epoch with bad_request', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    alice.send({ type: 'join', room: 'r', since: 3, ref: 1 })
    await expect(alice.next('error')).resolves.toMatchObject({ code: 'bad_request', ref: 1 })
  })

  it('answers a binary frame with bad_request and keeps the connection', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    alice.sendRaw(Buffer.from('{"type":"ping"}'), true)
    await expect(alice.next('error')).resolves.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('binary'),
    })
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
  })

  it('keeps prototype-named rooms, events and keys as plain data', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: '__proto__' })
    await using bob = await server.connect({ join: '__proto__' })
    alice.sendRaw('{"type":"presence","room":"__proto__","state":{"__proto__":{"isAdmin":true}}}')
    await bob.next('presence')
    alice.send({
      type: 'publish',
      room: '__proto__',
      event: 'constructor',
      data: { constructor: { prototype: { isAdmin: true } } },
    })
    await bob.next('message')
    expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined()
    expect((await server.server.roomInfo('__proto__'))?.memberCount).toBe(2)
  })
})

describe('limits', () => {
  it('closes a connection that sends a frame over maxMessageBytes with 1009', async () => {
    await using server = await startTestServer({ maxMessageBytes: 1024 })
    await using alice = await server.connect()
    alice.send({ type: 'ping', ref: 'x'.repeat(2000) })
    expect((await alice.closed).code).toBe(1009)
  })

  it('refuses messages past the rate limit with rate_limited', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 1, rateLimitBurst: 3 })
    await using alice = await server.connect()
    for (let i = 0; i < 4; i++) alice.send({ type: 'leave', room: 'r', ref: i })
    await expect(alice.next('error', (m) => m.code === 'rate_limited')).resolves.toMatchObject({ ref: 3 })
    expect(alice.received('error').filter((m) => m.code === 'not_joined')).toHaveLength(3)
  })

  it('counts ping against the rate limit like any message', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 1, rateLimitBurst: 2 })
    await using alice = await server.connect()
    for (let i = 0; i < 4; i++) alice.send({ type: 'ping', ref: i })
    await alice.next('error', (m) => m.ref === 3)
    expect(alice.received('pong').map((m) => m.ref)).toEqual([0, 1])
    expect(alice.received('error').map((m) => [m.code, m.ref])).toEqual([
      ['rate_limited', 2],
      ['rate_limited', 3],
    ])
  })

  it('closes with 1008 after more than burst refusals within the window', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 1, rateLimitBurst: 3 })
    await using alice = await server.connect()
    for (let i = 0; i < 20; i++) alice.send({ type: 'leave', room: 'r' })
    expect((await alice.closed).code).toBe(1008)
    expect(alice.received('error').filter((m) => m.code === 'rate_limited')).toHaveLength(3)
  })

  it('turns the rate limit off with 0', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0, rateLimitBurst: 1 })
    await using alice = await server.connect()
    for (let i = 0; i < 50; i++) alice.send({ type: 'leave', room: 'r', ref: i })
    await alice.next('error', (m) => m.ref === 49)
    expect(alice.received('error').every((m) => m.code === 'not_joined')).toBe(true)
  })

  it('closes connections past maxConnections with 1013 and no welcome', async () => {
    await using server = await startTestServer({ maxConnections: 2 })
    await using a = await server.connect()
    await using b = await server.connect()
    const c = await server.connect({ welcome: false })
    expect((await c.closed).code).toBe(1013)
    expect(c.received('welcome')).toHaveLength(0)
    expect([a.id, b.id]).toHaveLength(2)
  })

  it('closes a slow consumer with 4008 without holding up the rest of its room', async () => {
    await using server = await startTestServer({
      maxBufferedBytes: 64 * 1024,
      closeTimeoutMs: 5000,
      rateLimitPerSec: 0,
    })
    await using publisher = await server.connect({ join: 'busy' })
    await using fast = await server.connect({ join: 'busy' })
    const slow = await server.connect({ join: 'busy' })
    // Stop reading: the kernel buffers fill, then ws's send buffer grows past the cap.
    ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const data = 'x'.repeat(32 * 1024)
    const total = 600
    for (let i = 0; i < total; i++) publisher.send({ type: 'publish', room: 'busy', event: 'e', data })
    await fast.next('message', (m) => m.seq === total, 10_000)
    await vi.waitFor(
      async () =>
        expect(await server.server.metrics.getSingleMetricAsString('roomwire_slow_consumers_total')).toMatch(
          / 1$/m,
        ),
      { timeout: 5000 },
    )
    ;(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume()
    expect((await slow.closed).code).toBe(4008)
    expect(slow.received('message').length).toBeLessThan(total)
  })

  it('does not negotiate permessage-deflate by default', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    expect(alice.ws.extensions).toBe('')
  })

  it('negotiates permessage-deflate when perMessageDeflate is on', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const client = new TestClient(server.url, { clientOptions: { perMessageDeflate: true } })
    await client.next('welcome')
    expect(client.ws.extensions).toContain('permessage-deflate')
    await client.close()
  })
})
