import { Writable } from 'node:stream'
import { runInNewContext } from 'node:vm'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RoomServer } from '../src/index'
import { startTestServer, type TestClient } from './helpers'

/** A pino logger whose lines land in `lines`, parsed. */
function capture(level = 'info') {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: pino({ level }, sink) }
}

async function metric(server: RoomServer, name: string): Promise<string> {
  return server.metrics.getSingleMetricAsString(name)
}

/** `depth` nested arrays as text, built without recursion. */
const nested = (depth: number, inner = '0') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`

// Nothing a peer sends may reach these: the frame guard answers it (issue 12).
const escaped: unknown[] = []
const onEscape = (err: unknown) => escaped.push(err)
beforeEach(() => {
  escaped.length = 0
  process.on('unhandledRejection', onEscape)
  process.on('uncaughtException', onEscape)
})
afterEach(() => {
  process.off('unhandledRejection', onEscape)
  process.off('uncaughtException', onEscape)
})

describe('the nesting bound', () => {
  it('answers a type nested 4,110 levels deep with bad_request, and the connection and a witness carry on', async () => {
    await using server = await startTestServer()
    await using witness = await server.connect({ join: 'r' })
    await using attacker = await server.connect({ join: 'r' })
    attacker.sendRaw(`{"type":${nested(4110, '"x"')},"ref":1}`)
    await expect(attacker.next('error')).resolves.toMatchObject({
      code: 'bad_request',
      message: 'type: must not nest more than 32 levels deep',
    })
    await expect(attacker.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
    await expect(
      witness.request({ type: 'publish', room: 'r', event: 'chat', data: 'still here' }),
    ).resolves.toMatchObject({ type: 'ack', seq: 1 })
    expect(escaped).toEqual([])
  })

  it('refuses data nested deeper than maxNestingDepth naming the field, and announces the bound in welcome', async () => {
    await using server = await startTestServer({ maxNestingDepth: 4 })
    await using alice = await server.connect({ join: 'r' })
    expect(alice.received('welcome')[0]?.limits.maxNestingDepth).toBe(4)
    alice.sendRaw(`{"type":"publish","room":"r","event":"e","data":${nested(5)},"ref":7}`)
    // Refused on the text before parsing, so the reply cannot carry the ref (see protocol's decoder).
    await expect(alice.next('error')).resolves.toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'data: must not nest more than 4 levels deep',
    })
    alice.sendRaw(`{"type":"publish","room":"r","event":"e","data":${nested(4)},"ref":8}`)
    await expect(alice.next('ack')).resolves.toMatchObject({ ref: 8, seq: 1 })
  })

  it('refuses a maxNestingDepth above the protocol bound of 32', async () => {
    await expect(startTestServer({ maxNestingDepth: 33 })).rejects.toThrow(
      'option maxNestingDepth is 33; expected an integer from 1 to 32',
    )
  })
})

describe('the frame guard', () => {
  it('answers internal with the ref and room when onPublish throws, counts and logs it once, and the connection carries on', async () => {
    const { lines, logger } = capture('error')
    let calls = 0
    await using server = await startTestServer({
      logger,
      onPublish: () => {
        if (calls++ === 0) throw new Error('hook bug')
      },
    })
    await using alice = await server.connect({ join: 'r' })
    await using bob = await server.connect({ join: 'r' })
    await expect(
      alice.request({ type: 'publish', room: 'r', event: 'e', data: 1, ref: 'p1' }),
    ).resolves.toEqual({
      type: 'error',
      code: 'internal',
      ref: 'p1',
      room: 'r',
      message: 'the server failed to handle this publish',
    })
    await expect(alice.request({ type: 'publish', room: 'r', event: 'e', data: 2 })).resolves.toMatchObject({
      type: 'ack',
      seq: 1,
    })
    await expect(bob.next('message')).resolves.toMatchObject({ data: 2, seq: 1 })
    expect(await metric(server.server, 'roomwire_frame_failures_total')).toMatch(/ 1$/m)
    expect(await metric(server.server, 'roomwire_errors_total')).toMatch(/code="internal"} 1$/m)
    const failures = lines.filter((l) => l.msg === 'frame handling failed')
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ conn: alice.id, what: 'publish', err: { message: 'hook bug' } })
    expect(escaped).toEqual([])
  })

  it('answers internal when authorize rejects, and nothing reaches unhandledRejection', async () => {
    await using server = await startTestServer({
      authorize: async (req) => {
        if (req.action === 'presence') throw new Error('authorize bug')
        return true
      },
    })
    await using alice = await server.connect({ join: 'r' })
    await expect(alice.request({ type: 'presence', room: 'r', state: {}, ref: 3 })).resolves.toMatchObject({
      code: 'internal',
      ref: 3,
      room: 'r',
    })
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
    expect(escaped).toEqual([])
  })

  it('keeps a lifecycle hook whose promise comes from another realm from reaching unhandledRejection', async () => {
    const { lines, logger } = capture('error')
    await using server = await startTestServer({
      logger,
      // Not `instanceof Promise` here: a promise made in another realm (a vm context, an iframe's code).
      onJoin: () => runInNewContext('Promise.reject(new Error("join hook"))') as Promise<void>,
    })
    await using alice = await server.connect({ join: 'r' })
    await vi.waitFor(() => expect(lines.map((l) => l.msg)).toContain('hook failed'))
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
    expect(escaped).toEqual([])
  })

  it('answers internal when onPublish returns data nested too deep, and nothing enters history', async () => {
    let deep: unknown = 0
    for (let i = 0; i < 20_000; i++) deep = [deep]
    await using server = await startTestServer({ onPublish: () => ({ data: deep }) })
    await using alice = await server.connect({ join: 'r' })
    await expect(alice.request({ type: 'publish', room: 'r', event: 'e', data: 1 })).resolves.toMatchObject({
      code: 'internal',
      room: 'r',
    })
    expect((await server.server.roomInfo('r'))?.seq).toBe(0)
    await using late = await server.connect()
    await expect(late.request({ type: 'join', room: 'r', history: 100 })).resolves.toMatchObject({
      type: 'joined',
      seq: 0,
    })
  })
})

describe('rate limits on an injected clock', () => {
  /** A server on a clock the test moves, and a client whose every frame is answered (leave: not_joined). */
  async function flood(options: Parameters<typeof startTestServer>[0]) {
    let t = 1_000_000
    const server = await startTestServer({ ...options, now: () => t })
    const client = await server.connect()
    return {
      server,
      client,
      advance: (ms: number) => {
        t += ms
      },
      get now() {
        return t
      },
    }
  }
  async function answer(client: TestClient, ref: number) {
    return Promise.race([
      client
        .next('error', (m) => m.ref === ref, 2000)
        .then(
          (m) => m.code,
          () => 'no answer',
        ),
      client.closed.then(({ code }) => code),
    ])
  }

  it('closes a flood at 150 messages a second with 1008 within the window, although refilled tokens pass', async () => {
    const f = await flood({ rateLimitPerSec: 100, rateLimitBurst: 20, rateLimitWindowMs: 10_000 })
    await using _server = f.server
    let firstRefusalAt: number | undefined
    let closedAt: number | undefined
    let passed = 0
    let refused = 0
    for (let i = 0; i < 150 * 30 && closedAt === undefined; i++) {
      f.advance(1000 / 150)
      f.client.send({ type: 'leave', room: 'r', ref: i })
      const result = await answer(f.client, i)
      if (result === 'not_joined') passed++
      else if (result === 'rate_limited') {
        refused++
        firstRefusalAt ??= f.now
      } else closedAt = f.now
    }
    expect(closedAt, 'closed within 30 s (simulated) of flooding').toBeDefined()
    expect((await f.client.closed).code).toBe(1008)
    // The burst, then about 100 a second passed; each refusal counted, and more than 20 in 10 s closed it.
    expect(passed).toBeGreaterThan(20)
    expect(refused).toBe(20)
    expect(closedAt! - firstRefusalAt!).toBeLessThanOrEqual(10_000)
  })

  it('keeps a connection open that is refused now and then, below burst refusals per window', async () => {
    const f = await flood({ rateLimitPerSec: 10, rateLimitBurst: 5, rateLimitWindowMs: 1000 })
    await using _server = f.server
    const codes: unknown[] = []
    // Six messages at once every second: five pass, one is refused; one refusal per window never closes.
    for (let second = 0; second < 10; second++) {
      f.advance(1000)
      for (let i = 0; i < 6; i++) {
        const ref = second * 10 + i
        f.client.send({ type: 'leave', room: 'r', ref })
        codes.push(await answer(f.client, ref))
      }
    }
    expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(10)
    expect(codes.filter((c) => c === 'not_joined')).toHaveLength(50)
    expect(f.client.ws.readyState).toBe(1)
  })

  it('refuses a frame past the byte budget with rate_limited naming it, and passes it once the budget refilled', async () => {
    const f = await flood({
      maxMessageBytes: 4096,
      rateLimitBytesPerSec: 10_000,
      rateLimitBytesBurst: 4096,
    })
    await using _server = f.server
    const big = { type: 'ping', t: 1, pad: 'x'.repeat(3000) }
    f.client.send({ ...big, ref: 1 })
    await expect(f.client.next('pong', (m) => m.ref === 1)).resolves.toBeDefined()
    f.client.send({ ...big, ref: 2 })
    // Refused before it is parsed: no ref.
    await expect(f.client.next('error')).resolves.toEqual({
      type: 'error',
      code: 'rate_limited',
      message: expect.stringMatching(
        /^byte budget of 10000 bytes per second exceeded \(this frame: 30\d\d bytes\)$/,
      ),
    })
    f.advance(300)
    f.client.send({ ...big, ref: 3 })
    await expect(f.client.next('pong', (m) => m.ref === 3)).resolves.toBeDefined()
    expect(await metric(f.server.server, 'roomwire_rate_limited_total')).toMatch(/budget="bytes"} 1$/m)
  })

  it('counts every frame against the byte budget, binary and undecodable ones too', async () => {
    const f = await flood({ maxMessageBytes: 4096, rateLimitBytesPerSec: 1000, rateLimitBytesBurst: 4096 })
    await using _server = f.server
    f.client.sendRaw(Buffer.alloc(3000), true)
    await expect(f.client.next('error')).resolves.toMatchObject({ code: 'bad_request' })
    f.client.sendRaw(`not json ${'x'.repeat(3000)}`)
    await expect(f.client.next('error', (m) => m.code === 'rate_limited')).resolves.toMatchObject({
      message: expect.stringContaining('byte budget'),
    })
  })

  it('turns the byte budget off with rateLimitPerSec 0 unless it is set on its own', async () => {
    const f = await flood({ maxMessageBytes: 4096, rateLimitPerSec: 0 })
    await using _server = f.server
    // An unknown key is ignored by the schema: it pads each frame to 3.5 KB.
    const padded = (i: number): Record<string, unknown> => ({ type: 'ping', ref: i, pad: 'x'.repeat(3500) })
    for (let i = 0; i < 400; i++) f.client.send(padded(i))
    await f.client.next('pong', (m) => m.ref === 399)
    expect(f.client.received('error')).toEqual([])
  })
})

describe('metric labels', () => {
  it('counts closes with codes outside the known set as other', async () => {
    await using server = await startTestServer()
    const clients = await Promise.all(Array.from({ length: 20 }, () => server.connect()))
    for (const [i, client] of clients.entries()) client.ws.close(i < 10 ? 4100 + i : 3000 + i)
    await vi.waitFor(() => expect(server.server.connections()).toHaveLength(0))
    const text = await metric(server.server, 'roomwire_closes_total')
    expect(text).toMatch(/code="other"} 20$/m)
    expect(text.match(/code="/g)).toHaveLength(1)
  })
})
