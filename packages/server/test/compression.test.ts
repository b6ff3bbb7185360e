import { describe, expect, it } from 'vitest'
import { releaseIdleZlib } from '../src/compression'
import { startTestServer, TestClient } from './helpers'

// permessage-deflate with bounded memory (issue 12; src/compression.ts). What it costs per connection is
// measured in reliability/test/bounds-edges.test.ts.

describe('permessage-deflate', () => {
  it('is negotiated without context takeover in either direction and with a 2 KiB server window', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const client = new TestClient(server.url, { clientOptions: { perMessageDeflate: true } })
    const answer = new Promise<string>((resolve) =>
      client.ws.once('upgrade', (res) => resolve(String(res.headers['sec-websocket-extensions']))),
    )
    await client.next('welcome')
    const params = (await answer).split(';').map((p) => p.trim())
    expect(params).toEqual(
      expect.arrayContaining([
        'permessage-deflate',
        'server_no_context_takeover',
        'client_no_context_takeover',
        'server_max_window_bits=11',
      ]),
    )
    await client.close()
  })

  it('accepts a client that offers no client_max_window_bits, as Firefox does', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const client = new TestClient(server.url, {
      // @types/ws says number; ws takes false as "do not offer the parameter".
      clientOptions: { perMessageDeflate: { clientMaxWindowBits: false as unknown as number } },
    })
    await client.next('welcome')
    expect(client.ws.extensions).toContain('permessage-deflate')
    await client.close()
  })

  it('carries large messages both ways', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const options = { clientOptions: { perMessageDeflate: { threshold: 0 } } }
    const alice = new TestClient(server.url, options)
    const bob = new TestClient(server.url, options)
    await Promise.all([alice.next('welcome'), bob.next('welcome')])
    for (const client of [alice, bob]) {
      client.send({ type: 'join', room: 'r' })
      await client.next('joined')
    }
    const data = Array.from({ length: 500 }, (_, i) => ({ i, text: `message ${i}` }))
    alice.send({ type: 'publish', room: 'r', event: 'e', data, ref: 1 })
    await expect(bob.next('message')).resolves.toMatchObject({ data })
    await Promise.all([alice.close(), bob.close()])
  })
})

describe('freeing idle zlib streams', () => {
  const data = Array.from({ length: 500 }, (_, i) => ({ i, text: `message ${i}` }))

  it('frees both streams of an idle socket, which ws makes again for the next message', async () => {
    await using server = await startTestServer({ perMessageDeflate: true })
    const options = { clientOptions: { perMessageDeflate: { threshold: 0 } } }
    const alice = new TestClient(server.url, options)
    await alice.next('welcome')
    alice.send({ type: 'join', room: 'r' })
    await alice.next('joined')
    for (let round = 0; round < 3; round++) {
      alice.send({ type: 'publish', room: 'r', event: 'e', data, echo: true, ref: round })
      await expect(alice.next('message', (m) => m.seq === round + 1)).resolves.toMatchObject({ data })
      // The client's own ws: it deflated the publish and inflated the echo.
      expect(releaseIdleZlib(alice.ws)).toBe(2)
      expect(releaseIdleZlib(alice.ws)).toBe(0)
    }
    await alice.close()
  })

  it('keeps large messages intact while the server frees its streams every few milliseconds', async () => {
    await using server = await startTestServer({ perMessageDeflate: true, pingIntervalMs: 5 })
    const options = { clientOptions: { perMessageDeflate: { threshold: 0 } } }
    const alice = new TestClient(server.url, options)
    const bob = new TestClient(server.url, options)
    await Promise.all([alice.next('welcome'), bob.next('welcome')])
    for (const client of [alice, bob]) {
      client.send({ type: 'join', room: 'r' })
      await client.next('joined')
    }
    for (let i = 1; i <= 30; i++) {
      alice.send({ type: 'publish', room: 'r', event: 'e', data: { i, data } })
      if (i % 3 === 0) await bob.next('message', (m) => m.seq === i)
    }
    expect(bob.received('message').map((m) => (m.data as { i: number }).i)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    )
    await Promise.all([alice.close(), bob.close()])
  })

  it('does nothing to a socket without compression', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    expect(releaseIdleZlib(alice.ws)).toBe(0)
    expect(releaseIdleZlib({})).toBe(0)
  })
})
