/**
 * Resource tests for the server's edges (issue 12): each amplification the attacker tour found, run
 * against a real server on loopback, asserting a bound measured here (heap, RSS, egress bytes, log bytes,
 * a witness's round trip) with generous margins. Every test stops by itself, bounded in count and time.
 */
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { createRoomServer } from '@roomwire/server'
import { SignJWT } from 'jose'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { report } from './support/budget'
import { type ChildServer, type ServerMemory, startChildServer } from './support/child-server'
import { connectJson, type JsonClient } from './support/json-client'
import { encodeFrame, Opcode, type RawWebSocket, rawUpgrade } from './support/ws-frames'

const KiB = 1024
const MiB = 1024 * KiB
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function child(options: Parameters<typeof startChildServer>[0] = {}): Promise<ChildServer> {
  const server = await startChildServer(options)
  cleanup.push(async () => {
    await server.close()
    expect(server.exit?.crash).toBeUndefined()
  })
  return server
}

async function join(url: string, room: string, headers?: Record<string, string>): Promise<JsonClient> {
  const client = await connectJson(url, headers === undefined ? { join: room } : { join: room, headers })
  cleanup.push(() => client.close())
  return client
}

async function raw(port: number, options: Parameters<typeof rawUpgrade>[1] = {}): Promise<RawWebSocket> {
  const socket = await rawUpgrade(port, options)
  cleanup.push(() => socket.destroy())
  return socket
}

/** Round trips of a witness's pings while `during` runs, one every `everyMs`: the sorted list. */
async function witnessWhile(witness: JsonClient, during: Promise<unknown>, everyMs = 25): Promise<number[]> {
  const rtts: number[] = []
  let done = false
  void during.finally(() => {
    done = true
  })
  while (!done) {
    rtts.push(await witness.roundTrip(5000))
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  rtts.push(await witness.roundTrip(5000))
  return rtts.sort((a, b) => a - b)
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** Write `frame` up to `count` times as fast as the socket takes it; stops when the socket closes. */
async function blast(socket: RawWebSocket, frame: Buffer, count: number): Promise<number> {
  let written = 0
  for (; written < count && !socket.socket.destroyed; written++) {
    if (!socket.socket.write(frame)) {
      await new Promise<void>((resolve) => {
        socket.socket.once('drain', resolve)
        socket.socket.once('close', resolve)
      })
    }
  }
  return written
}

const text = (payload: string) => encodeFrame({ opcode: Opcode.text, payload })
const isType = (type: string) => (m: unknown) => (m as { type?: string }).type === type
const heapGrowth = (after: ServerMemory, before: ServerMemory) => after.heapUsed - before.heapUsed

describe('one frame, one bug: the frame boundary', () => {
  it('answers a type nested 4,110 levels deep with bad_request, the connection stays, and a witness keeps chatting', async () => {
    const server = await child()
    const witness = await join(server.url, 'lobby')
    const attacker = await raw(server.port)
    const before = await server.memory()
    const frame = text(`{"type":${'['.repeat(4110)}"x"${']'.repeat(4110)}}`)
    for (let i = 0; i < 100; i++) attacker.write(frame)
    await attacker.waitFor(() => attacker.texts.filter(isType('error')).length === 100, 10_000)
    const errors = attacker.texts.filter(isType('error')) as { code: string; message: string }[]
    expect(new Set(errors.map((e) => `${e.code}: ${e.message}`))).toEqual(
      new Set(['bad_request: type: must not nest more than 32 levels deep']),
    )
    attacker.write(text('{"type":"ping","ref":"alive"}'))
    await attacker.waitFor((m) => (m as { ref?: string }).ref === 'alive')
    witness.send({ type: 'publish', room: 'lobby', event: 'chat', data: 'hi', ref: 'w1' })
    await witness.waitFor((m) => m.type === 'ack' && m.ref === 'w1')
    const rtt = await witness.roundTrip()
    const after = await server.memory()
    report('edges: deep type frames', {
      frames: 100,
      frameBytes: frame.length,
      witnessRttMs: Math.round(rtt),
      heapGrowthMiB: mib(heapGrowth(after, before)),
    })
    expect(server.exit).toBeUndefined()
    expect(rtt).toBeLessThan(1000)
    expect(heapGrowth(after, before)).toBeLessThan(16 * MiB)
  })

  it('answers every frame whose hook throws with internal, logs a bounded number of lines, and nothing escapes', async () => {
    const escaped: unknown[] = []
    const onEscape = (err: unknown) => escaped.push(err)
    process.on('uncaughtException', onEscape)
    process.on('unhandledRejection', onEscape)
    cleanup.push(() => {
      process.off('uncaughtException', onEscape)
      process.off('unhandledRejection', onEscape)
    })
    let logBytes = 0
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logBytes += chunk.length
        done()
      },
    })
    const server = createRoomServer({
      port: 0,
      host: '127.0.0.1',
      rateLimitPerSec: 0,
      logger: pino({ level: 'info' }, sink),
      onPublish: ({ data }) => {
        if (data !== 'ok') throw new Error('hook bug')
      },
      authorize: async (req) => {
        if (req.action === 'presence') throw new Error('authorize bug')
        return true
      },
    })
    cleanup.push(() => server.close({ timeoutMs: 500 }))
    await server.ready
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
    const witness = await join(url, 'r')
    const attacker = await join(url, 'r')
    const logBefore = logBytes
    const N = 500
    for (let i = 0; i < N; i++) {
      attacker.send(
        i % 2 === 0
          ? { type: 'publish', room: 'r', event: 'e', data: i, ref: i }
          : { type: 'presence', room: 'r', state: { i }, ref: i },
      )
    }
    await attacker.waitFor((m) => m.type === 'error' && m.ref === N - 1, 10_000)
    const internal = attacker.messages.filter((m) => m.type === 'error' && m.code === 'internal')
    witness.send({ type: 'publish', room: 'r', event: 'e', data: 'ok', echo: true, ref: 'fine' })
    await witness.waitFor((m) => m.type === 'ack' && m.ref === 'fine')
    const rtt = await witness.roundTrip()
    const failures = await server.metrics.getSingleMetricAsString('roomwire_frame_failures_total')
    report('edges: throwing hooks', {
      frames: N,
      internal: internal.length,
      logBytes: logBytes - logBefore,
      witnessRttMs: Math.round(rtt),
    })
    expect(internal).toHaveLength(N)
    expect(internal.every((m) => m.type === 'error' && m.room === 'r' && typeof m.ref === 'number')).toBe(
      true,
    )
    expect(failures).toMatch(new RegExp(` ${N}$`, 'm'))
    // 20 lines per 10 s at most (each with its stack): far below one per failure.
    expect(logBytes - logBefore).toBeLessThan(20 * 4 * KiB)
    expect(rtt).toBeLessThan(1000)
    expect(escaped).toEqual([])
    expect(witness.messages.filter((m) => m.type === 'message')).toHaveLength(1)
  })
})

describe('rate limits that hold', () => {
  it('keeps a witness served while six connections send 60 KB pings as fast as they can', async () => {
    const server = await child()
    const witness = await join(server.url, 'lobby')
    const baseline = (await witnessWhile(witness, new Promise((resolve) => setTimeout(resolve, 300))))[0]!
    const ping = text(JSON.stringify({ type: 'ping', pad: 'x'.repeat(60_000) }))
    const flooders = await Promise.all(Array.from({ length: 6 }, () => raw(server.port)))
    const attack = Promise.all(flooders.map((f) => blast(f, ping, 2000)))
    const rtts = await witnessWhile(witness, attack)
    const sent = await attack
    const closes = await Promise.all(flooders.map((f) => f.closed))
    const pongs = flooders.map((f) => f.texts.filter(isType('pong')).length)
    report('edges: 60 KB ping flood', {
      flooders: 6,
      pingsWritten: sent,
      pongsPerFlooder: pongs,
      closeCodes: closes.map((c) => c.code),
      witnessBaselineMs: Math.round(baseline),
      witnessP50Ms: Math.round(percentile(rtts, 0.5)),
      witnessP99Ms: Math.round(percentile(rtts, 0.99)),
      samples: rtts.length,
    })
    // Each flooder: its 1 MiB burst (17 pings) and 256 KiB/s, then 1008 once 1 MiB more was refused, and
    // nothing more is read from it; before these bounds it got a pong for every ping and pushed the
    // witness's p99 to 704 ms.
    expect(closes.every((c) => c.code === 1008)).toBe(true)
    for (const count of pongs) expect(count).toBeLessThan(60)
    expect(percentile(rtts, 0.5)).toBeLessThan(50)
    expect(percentile(rtts, 0.99)).toBeLessThan(500)
  })

  it('closes a flood at 150 messages a second with 1008 within the window, although refilled tokens pass', async () => {
    const server = await child({ rateLimitPerSec: 100, rateLimitBurst: 50, rateLimitWindowMs: 10_000 })
    const flooder = await raw(server.port)
    const frame = text('{"type":"leave","room":"r"}')
    const started = performance.now()
    let firstRefusal: number | undefined
    const timer = setInterval(() => {
      // 3 frames every 20 ms: 150 a second, steady, so the bucket refills between them.
      for (let i = 0; i < 3; i++) flooder.write(frame)
      if (
        firstRefusal === undefined &&
        flooder.texts.some((m) => (m as { code?: string }).code === 'rate_limited')
      )
        firstRefusal = performance.now()
    }, 20)
    cleanup.push(() => clearInterval(timer))
    const closed = await Promise.race([
      flooder.closed,
      new Promise<{ code: number }>((resolve) => setTimeout(() => resolve({ code: 0 }), 30_000)),
    ])
    clearInterval(timer)
    const closedAt = performance.now()
    const refused = flooder.texts.filter((m) => (m as { code?: string }).code === 'rate_limited').length
    const passed = flooder.texts.filter((m) => (m as { code?: string }).code === 'not_joined').length
    report('edges: steady flood at 150/s', {
      closeCode: closed.code,
      secondsToClose: Math.round((closedAt - started) / 100) / 10,
      secondsFromFirstRefusal: Math.round((closedAt - (firstRefusal ?? closedAt)) / 100) / 10,
      passed,
      refused,
    })
    expect(closed.code).toBe(1008)
    expect(refused).toBeLessThanOrEqual(50)
    expect(closedAt - firstRefusal!).toBeLessThan(10_000 + 2000)
  })

  it('bounds the egress of one member publishing 60 KB messages into a room by its byte budget', async () => {
    const MEMBERS = 40
    const SECONDS = 3
    const server = await child({ maxConnections: 100 })
    const members: RawWebSocket[] = []
    for (let i = 0; i < MEMBERS; i++) {
      const member = await raw(server.port, { parse: false })
      member.write(text('{"type":"join","room":"big"}'))
      members.push(member)
    }
    const publisher = await raw(server.port)
    publisher.write(text('{"type":"join","room":"big"}'))
    await publisher.waitFor(isType('joined'))
    await expect
      .poll(async () => (await server.room('big')).memberCount, { timeout: 10_000 })
      .toBe(MEMBERS + 1)
    const received = () => members.reduce((sum, m) => sum + m.bytesReceived, 0)
    const before = received()
    const publish = text(
      JSON.stringify({ type: 'publish', room: 'big', event: 'e', data: 'x'.repeat(60_000) }),
    )
    const started = performance.now()
    // 100 publishes a second (the message rate) of 60 KB: 6 MB/s in, 240 MB/s out without a byte budget.
    const timer = setInterval(() => publisher.write(publish), 10)
    cleanup.push(() => clearInterval(timer))
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
    clearInterval(timer)
    const elapsed = (performance.now() - started) / 1000
    await new Promise((resolve) => setTimeout(resolve, 500))
    const perMember = (received() - before) / MEMBERS
    const refusals = publisher.texts.filter(
      (m) => (m as { code?: string; message?: string }).code === 'rate_limited',
    ) as { message: string }[]
    report('edges: byte budget and fan-out egress', {
      members: MEMBERS,
      seconds: Math.round(elapsed * 10) / 10,
      egressPerMemberMiB: mib(perMember),
      egressMiBPerSec: mib((received() - before) / elapsed),
      refusals: refusals.length,
    })
    // What the budget lets in (1 MiB at once, then 256 KiB/s), times 1.5 for framing and timing.
    expect(perMember).toBeLessThan((1 * MiB + 256 * KiB * (elapsed + 1)) * 1.5)
    expect(refusals.length).toBeGreaterThan(0)
    expect(refusals[0]!.message).toMatch(/^byte budget of 262144 bytes per second exceeded/)
  })
})

describe('connections per address', () => {
  it('refuses an address past its cap after the upgrade, then with 429 while its refusals close, and serves others', async () => {
    const CAP = 100
    const ATTEMPTS = 400
    // Raw sockets never answer a close: refused ones stay closing until closeTimeoutMs, long enough to pile up.
    const server = await child({
      maxConnectionsPerAddress: CAP,
      trustedProxies: ['127.0.0.1'],
      closeTimeoutMs: 1000,
    })
    const witness = await join(server.url, 'lobby', { 'x-forwarded-for': '198.51.100.1' })
    const before = await server.memory()
    const attacker: [string, string][] = [['X-Forwarded-For', '203.0.113.7']]
    const outcomes = { welcomed: 0, closed1013: 0, http429: 0, other: 0 }
    const held: RawWebSocket[] = []
    for (let i = 0; i < ATTEMPTS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          try {
            const socket = await raw(server.port, { headers: attacker, timeoutMs: 20_000 })
            const first = await Promise.race([
              socket.waitFor(isType('welcome'), 5000).then(() => 'welcome' as const),
              socket.closed.then(({ code }) => code),
            ])
            if (first === 'welcome') {
              outcomes.welcomed++
              held.push(socket)
            } else if (first === 1013) outcomes.closed1013++
            else outcomes.other++
          } catch (err) {
            if (String(err).includes('429')) outcomes.http429++
            else outcomes.other++
          }
        }),
      )
    }
    const peak = await server.memory()
    const rtt = await witness.roundTrip()
    const other = await join(server.url, 'lobby', { 'x-forwarded-for': '203.0.113.8' })
    report('edges: connections per address', {
      cap: CAP,
      attempts: ATTEMPTS,
      ...outcomes,
      connections: peak.connections,
      heapGrowthMiB: mib(heapGrowth(peak, before)),
      rssGrowthMiB: mib(peak.rss - before.rss),
      witnessRttMs: Math.round(rtt),
    })
    expect(outcomes.welcomed).toBe(CAP)
    expect(outcomes.closed1013 + outcomes.http429).toBe(ATTEMPTS - CAP)
    expect(outcomes.other).toBe(0)
    expect(outcomes.http429).toBeGreaterThan(0)
    expect(peak.connections).toBe(CAP + 1)
    expect(heapGrowth(peak, before)).toBeLessThan(32 * MiB)
    expect(rtt).toBeLessThan(1000)
    expect(other.id).toMatch(/^c_/)
  })
})

describe('failed authentications', () => {
  const SECRET = 'bounds-edges-secret-of-at-least-32-bytes'
  const sign = (sub: string) =>
    new SignJWT({ sub })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET))

  it('stops authenticating an address after 20 failures in a minute, while another address still gets in', async () => {
    const server = await child({
      auth: { jwtSecret: SECRET, required: true },
      trustedProxies: ['127.0.0.1'],
      authFailuresPerAddress: 20,
      authBackoffMs: 60_000,
    })
    const mallory = { 'x-forwarded-for': '203.0.113.66' }
    const codes = new Map<number | string, number>()
    const note = (code: number | string) => codes.set(code, (codes.get(code) ?? 0) + 1)
    /** The close code (or HTTP status) an upgrade with `token` gets from `headers`' address. */
    const attempt = (token: string, headers: Record<string, string>) =>
      new Promise<number | string>((resolve) => {
        const ws = new WebSocket(`${server.url}?token=${token}`, ['roomwire.v1'], { headers })
        ws.on('error', () => {})
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 'no status'))
        ws.on('close', (code) => resolve(code))
      })
    for (let i = 0; i < 300; i += 10) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, j) => attempt(`forged-${i + j}`, mallory)),
      )
      for (const code of results) note(code)
    }
    const good = await sign('alice')
    const refusedGood = await attempt(good, mallory)
    const elsewhere = await connectJson(`${server.url}?token=${good}`, {
      headers: { 'x-forwarded-for': '198.51.100.9' },
    })
    cleanup.push(() => elsewhere.close())
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
    const verified = Number(/^roomwire_auth_failures_total (\d+)$/m.exec(metrics)?.[1])
    report('edges: failed-auth backoff', { attempts: 300, codes: Object.fromEntries(codes), verified })
    // Authenticated (4001) only until the backoff started: 21 and the few already in flight.
    expect(codes.get(4001)).toBeLessThanOrEqual(21 + 10)
    expect(verified).toBe(codes.get(4001))
    expect((codes.get(1013) ?? 0) + (codes.get(429) ?? 0)).toBe(300 - codes.get(4001)!)
    expect(refusedGood).toBe(1013)
    expect(elsewhere.id).toMatch(/^c_/)
  })

  it('writes a bounded number of log bytes however many authentications fail', async () => {
    let logBytes = 0
    let lines = 0
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logBytes += chunk.length
        lines++
        done()
      },
    })
    const server = createRoomServer({
      port: 0,
      host: '127.0.0.1',
      auth: { jwtSecret: SECRET, required: true },
      logger: pino({ level: 'info' }, sink),
    })
    cleanup.push(() => server.close({ timeoutMs: 500 }))
    await server.ready
    const port = (server.address() as AddressInfo).port
    const N = 500
    for (let i = 0; i < N; i += 25) {
      await Promise.all(
        Array.from(
          { length: 25 },
          () =>
            new Promise<void>((resolve) => {
              const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=bad-${i}`, ['roomwire.v1'])
              ws.on('error', () => {})
              ws.on('close', () => resolve())
            }),
        ),
      )
    }
    report('edges: failed-auth log bytes', { failures: N, lines, logBytes, bytesPerFailure: logBytes / N })
    // Loopback is not backed off: every one was authenticated and refused, and at most 20 logged per 10 s
    // (174 bytes each, one per failure, before).
    expect(await server.metrics.getSingleMetricAsString('roomwire_auth_failures_total')).toMatch(/ 500$/m)
    expect(lines).toBeLessThanOrEqual(21)
    expect(logBytes).toBeLessThan(21 * 400)
  })
})

describe('metric labels', () => {
  it('keeps roomwire_closes_total at a fixed set of series whatever codes 300 peers close with', async () => {
    const server = await child({ maxConnections: 500 })
    const scrape = async () => (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
    const before = await scrape()
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const client = await connectJson(server.url)
          const code = (i + j) % 2 === 0 ? 3000 + i + j : 4100 + i + j
          client.ws.close(code)
          await client.closed
        }),
      )
    }
    await expect.poll(async () => (await server.memory()).connections, { timeout: 10_000 }).toBe(0)
    const after = await scrape()
    const series = after.split('\n').filter((l) => l.startsWith('roomwire_closes_total{'))
    report('edges: close code labels', {
      closes: 300,
      series: series.length,
      metricsBytesGrowth: after.length - before.length,
    })
    expect(series).toEqual(['roomwire_closes_total{code="other"} 300'])
    expect(after.length - before.length).toBeLessThan(4 * KiB)
  })
})

describe('server-side entry points and HTTP bodies', () => {
  it('keeps a message nested 20,000 levels deep out of history through the admin API, and bounds its body', async () => {
    const server = await child({ adminToken: 'admin-secret' })
    const member = await join(server.url, 'r')
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${server.port}/rooms/r/broadcast`, {
        method: 'POST',
        headers: { authorization: 'Bearer admin-secret' },
        body,
      })
    const before = await server.memory()
    const deep = await post(`{"event":"e","data":${'['.repeat(20_000)}0${']'.repeat(20_000)}}`)
    const huge = await post(`{"event":"e","data":"${'a'.repeat(10 * MiB)}"}`)
    const after = await server.memory()
    const late = await join(server.url, 'r')
    late.send({ type: 'join', room: 'r', history: 100, ref: 'h' })
    const joined = (await late.waitFor((m) => m.type === 'joined' && m.ref === 'h')) as { seq: number }
    report('edges: admin bodies', {
      deepStatus: deep.status,
      hugeStatus: huge.status,
      heapGrowthMiB: mib(heapGrowth(after, before)),
      rssGrowthMiB: mib(after.rss - before.rss),
    })
    expect(deep.status).toBe(400)
    expect(huge.status).toBe(413)
    expect(joined.seq).toBe(0)
    expect(member.messages.filter((m) => m.type === 'message')).toEqual([])
    // The 10 MB body was dropped as it came, never held.
    expect(heapGrowth(after, before)).toBeLessThan(8 * MiB)
  })
})

describe('permessage-deflate memory', () => {
  const N = 300
  const large = JSON.stringify({
    type: 'ping',
    pad: Array.from({ length: 100 }, (_, i) => ({ i, text: `hello world ${i}` })),
  })

  /** N clients that join room `r` (its growing member list makes `joined` frames over 1 KiB), then
   * each sends one large compressible message and receives one. Like browsers, they compress everything. */
  async function wave(server: ChildServer): Promise<WebSocket[]> {
    const clients: WebSocket[] = []
    for (let i = 0; i < N; i += 50) {
      const batch = await Promise.all(
        Array.from(
          { length: 50 },
          () =>
            new Promise<WebSocket>((resolve, reject) => {
              const ws = new WebSocket(server.url, ['roomwire.v1'], { perMessageDeflate: { threshold: 0 } })
              ws.on('error', reject)
              ws.on('message', function onMessage(raw) {
                const message = JSON.parse(raw.toString()) as { type: string }
                if (message.type === 'welcome') ws.send('{"type":"join","room":"r","ref":1}')
                if (message.type === 'joined') {
                  ws.off('message', onMessage)
                  resolve(ws)
                }
              })
            }),
        ),
      )
      clients.push(...batch)
    }
    cleanup.push(() =>
      Promise.all(clients.map((ws) => new Promise((resolve) => ws.once('close', resolve).terminate()))),
    )
    await Promise.all(
      clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.on('message', function onPong(raw) {
              if ((JSON.parse(raw.toString()) as { type: string }).type !== 'pong') return
              ws.off('message', onPong)
              resolve()
            })
            ws.send(large)
          }),
      ),
    )
    return clients
  }

  /** Memory per connection of two waves of N connections, each measured once its zlib streams went idle. */
  async function measure(compression: boolean) {
    // The sweep that frees idle zlib streams runs every ping interval.
    const server = await child({
      perMessageDeflate: compression,
      maxConnections: 2 * N + 10,
      pingIntervalMs: 500,
    })
    const perConnection = (after: ServerMemory, before: ServerMemory) => ({
      heap: Math.round((after.heapUsed - before.heapUsed) / N),
      external: Math.round((after.external - before.external) / N),
      rss: Math.round((after.rss - before.rss) / N),
    })
    const settled = async (before: ServerMemory) => {
      // Wait for the sweep: external memory (zlib's buffers) back to what the sockets alone hold.
      await expect
        .poll(async () => perConnection(await server.memory(), before).external, { timeout: 10_000 })
        .toBeLessThan(2 * KiB)
      return server.memory()
    }
    const start = await server.memory()
    const first = await wave(server)
    const afterFirst = await settled(start)
    await wave(server)
    const afterSecond = await settled(afterFirst)
    return {
      extensions: first[0]!.extensions,
      first: perConnection(afterFirst, start),
      second: perConnection(afterSecond, afterFirst),
    }
  }

  it('costs an idle compressed connection about what an uncompressed one costs', async () => {
    const plain = await measure(false)
    const compressed = await measure(true)
    report('edges: permessage-deflate memory per connection', { connections: N, plain, compressed })
    expect(compressed.extensions).toBe('permessage-deflate')
    // Before: 359 KB per compressed connection against 16 KB without, held for the connection's life.
    // Now its zlib streams are freed while idle; what they used is reused by the next connections.
    expect(compressed.second.rss).toBeLessThan(plain.second.rss + 48 * KiB)
    expect(compressed.first.rss).toBeLessThan(plain.first.rss + 192 * KiB)
    expect(compressed.second.heap).toBeLessThan(plain.second.heap + 8 * KiB)
  })
})
