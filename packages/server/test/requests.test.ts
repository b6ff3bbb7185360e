import { Writable } from 'node:stream'
import { type ClientMessage, defineProtocol, type ServerMessage } from '@roomwire/protocol'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { type Clock, systemClock } from '../src/clock'
import { createRoomServer, RequestError, type RequestHandlers } from '../src/index'
import { startTestServer } from './helpers'

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ id: z.string() }),
      errors: ['name_taken'],
    },
    claim: { input: z.object({ seat: z.int() }), output: z.object({ n: z.int() }), idempotent: true },
    rename: { input: z.object({ to: z.string() }), output: z.object({ room: z.string() }), room: true },
    slow: { input: z.void(), output: z.null() },
    big: { input: z.int(), output: z.string() },
  },
})

/** Handlers for `app`; each test overrides what it needs. */
function handlers(overrides: Partial<RequestHandlers> = {}): RequestHandlers {
  return {
    createRoom: async (input) => {
      const { name } = input as { name: string }
      if (name === 'taken') throw new RequestError('name_taken', 'That name is taken')
      return { id: `r_${name}` }
    },
    claim: () => ({ n: 1 }),
    rename: (_input, ctx) => ({ room: ctx.room as string }),
    slow: (_input, ctx) =>
      new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))),
    big: (n) => 'x'.repeat(n as number),
    ...overrides,
  }
}

/** A request frame; `TestClient.request` adds its ref (it is left out to test the refusal of none). */
const request = (name: string, input: unknown, extra: Record<string, unknown> = {}) =>
  ({
    type: 'request',
    name,
    id: `id-${Math.random()}`,
    ...(input === undefined ? {} : { input }),
    ...extra,
  }) as unknown as ClientMessage

function logSink() {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()))
      done()
    },
  })
  return { lines, logger: pino({ level: 'error' }, sink) }
}

describe('requests on the server', () => {
  it('refuses at start a handler for an undeclared request, or one that is not a function', () => {
    expect(() =>
      createRoomServer({
        noServer: true,
        protocol: app,
        handlers: handlers({ createRoon: () => null }) as never,
      }),
    ).toThrow(
      'handlers.createRoon: the protocol declares no request "createRoon" (it declares: createRoom, claim',
    )
    const notAFunction = { ...handlers(), claim: { n: 1 } } as unknown as RequestHandlers
    expect(() =>
      createRoomServer({ noServer: true, protocol: app, handlers: notAFunction as never }),
    ).toThrow('handlers.claim is object; expected a function')
    // The types ask for all of them; plain JavaScript learns here, not from a caller's refusal.
    const { big: _big, slow: _slow, ...partial } = handlers()
    expect(() => createRoomServer({ noServer: true, protocol: app, handlers: partial as never })).toThrow(
      'handlers: no handler for "slow", "big", which the protocol declares',
    )
  })

  it('answers a declared request on a server given no handlers internal, not the caller invalid_event', async () => {
    await using t = await startTestServer({ protocol: app })
    const c = await t.connect()
    await expect(c.request(request('claim', { seat: 1 }))).resolves.toMatchObject({
      type: 'error',
      code: 'internal',
      message: 'this server has no handler for request claim',
    })
    // An undeclared name stays the caller's mistake.
    await expect(c.request(request('nope', {}))).resolves.toMatchObject({
      type: 'error',
      code: 'invalid_event',
    })
  })

  it('answers with the handler output, validated by the output schema', async () => {
    await using t = await startTestServer({ protocol: app, handlers: handlers() })
    const c = await t.connect()
    await expect(c.request(request('createRoom', { name: 'lobby' }))).resolves.toEqual({
      type: 'reply',
      ref: expect.anything(),
      output: { id: 'r_lobby' },
    })
  })

  it('answers a declared RequestError in the reply, and a returned refusal the same way', async () => {
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers({ claim: (_input, ctx) => ctx.refuse('taken' as never, 'no') }),
    })
    const c = await t.connect()
    await expect(c.request(request('createRoom', { name: 'taken' }))).resolves.toMatchObject({
      type: 'reply',
      error: { code: 'name_taken', message: 'That name is taken' },
    })
    // `taken` is not declared for claim: internal.
    await expect(c.request(request('claim', { seat: 1 }))).resolves.toMatchObject({
      type: 'error',
      code: 'internal',
    })
  })

  it('answers a throw internal without its text, logging the name and connection id but not the input', async () => {
    const { lines, logger } = logSink()
    await using t = await startTestServer({
      protocol: app,
      logger,
      handlers: handlers({
        createRoom: () => {
          throw new Error('db password is hunter2')
        },
      }),
    })
    const c = await t.connect()
    const answer = await c.request(request('createRoom', { name: 'secret-input' }))
    expect(answer).toMatchObject({ type: 'error', code: 'internal' })
    expect(JSON.stringify(answer)).not.toContain('hunter2')
    const line = lines.find((l) => l.msg === 'a request handler threw')
    expect(line).toMatchObject({ request: 'createRoom', connectionId: c.id })
    expect(JSON.stringify(lines)).not.toContain('secret-input')
  })

  it('answers an output its schema refuses internal, and one over the frame limit too_large', async () => {
    await using t = await startTestServer({
      protocol: app,
      maxMessageBytes: 1024,
      handlers: handlers({ createRoom: () => ({ id: 5 }) as never }),
    })
    const c = await t.connect()
    await expect(c.request(request('createRoom', { name: 'a' }))).resolves.toMatchObject({ code: 'internal' })
    await expect(c.request(request('big', 100))).resolves.toMatchObject({
      type: 'reply',
      output: 'x'.repeat(100),
    })
    await expect(c.request(request('big', 2000))).resolves.toMatchObject({ type: 'error', code: 'too_large' })
  })

  it('measures a reply of multi-byte text in UTF-8 bytes against the frame limit', async () => {
    const untyped = defineProtocol({ requests: { text: { input: z.number(), output: z.string() } } })
    await using t = await startTestServer({
      protocol: untyped,
      maxMessageBytes: 1024,
      handlers: { text: (n: number) => 'é'.repeat(n) },
    })
    const c = await t.connect()
    // 400 two-byte characters fit; 600 (1,200 bytes, though only 600 UTF-16 units) do not.
    await expect(c.request(request('text', 400))).resolves.toMatchObject({ type: 'reply' })
    await expect(c.request(request('text', 600))).resolves.toMatchObject({ type: 'error', code: 'too_large' })
  })

  it('answers an output that cannot be serialized internal, and nothing escapes as an unhandled rejection', async () => {
    const untyped = defineProtocol({ requests: { odd: { input: z.unknown(), output: z.unknown() } } })
    await using t = await startTestServer({ protocol: untyped, handlers: { odd: () => ({ n: 10n }) } })
    const c = await t.connect()
    await expect(c.request(request('odd', null))).resolves.toMatchObject({ type: 'error', code: 'internal' })
    await expect(c.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
  })

  it('refuses an undeclared name or a bad input with invalid_event, and a missing ref with bad_request', async () => {
    await using t = await startTestServer({ protocol: app, handlers: handlers() })
    const c = await t.connect()
    await expect(c.request(request('dropAll', {}))).resolves.toMatchObject({
      type: 'error',
      code: 'invalid_event',
      message: expect.stringContaining('not a declared request'),
    })
    await expect(c.request(request('createRoom', { name: '' }))).resolves.toMatchObject({
      code: 'invalid_event',
      message: expect.stringContaining('input.name'),
    })
    c.send(request('createRoom', { name: 'a' }))
    await expect(c.next('error', (m) => m.code === 'bad_request')).resolves.toMatchObject({
      message: expect.stringContaining('ref'),
    })
  })

  it('times out a handler after requestTimeoutMs and fires its signal', async () => {
    let aborted: unknown
    await using t = await startTestServer({
      protocol: app,
      requestTimeoutMs: 50,
      handlers: handlers({
        slow: (_input, ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason
              resolve(null)
            }),
          ),
      }),
    })
    const c = await t.connect()
    await expect(c.request(request('slow', undefined))).resolves.toMatchObject({
      type: 'error',
      code: 'timeout',
    })
    expect(aborted).toBeInstanceOf(Error)
    // Answered once: the handler's late resolve writes nothing more.
    await c.request({ type: 'ping' })
    expect(c.messages.filter((m) => 'ref' in m && m.type !== 'pong')).toHaveLength(1)
  })

  it('fires the signal of a running handler when its caller disconnects', async () => {
    let signal: AbortSignal | undefined
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers({
        slow: (_input, ctx) => {
          signal = ctx.signal
          return new Promise(() => {})
        },
      }),
    })
    const c = await t.connect()
    c.send({ ...request('slow', undefined), ref: 1 })
    await expect.poll(() => signal).toBeDefined()
    expect(signal?.aborted).toBe(false)
    await c.close()
    await expect.poll(() => signal?.aborted).toBe(true)
  })

  it('answers a handler that returns at once without arming its timeout', async () => {
    // Issue 20: a trivial handler's round trip makes no timer, promise or abort signal.
    let timeouts = 0
    const clock: Clock = {
      ...systemClock,
      setTimeout: (fn, ms) => {
        timeouts++
        return systemClock.setTimeout(fn, ms)
      },
    }
    await using t = await startTestServer({ protocol: app, clock, handlers: handlers() })
    const c = await t.connect()
    const before = timeouts
    await expect(c.request(request('claim', { seat: 1 }))).resolves.toMatchObject({ output: { n: 1 } })
    expect(timeouts - before).toBe(0)
    // A handler that awaits gets its timeout.
    c.send({ ...request('slow', undefined), ref: 'slow' })
    await expect.poll(() => timeouts - before).toBe(1)
  })

  it('gives a handler that reads its signal only after its caller left an aborted one', async () => {
    let later: AbortSignal | undefined
    let readSignal: (() => void) | undefined
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers({
        slow: (_input, ctx) =>
          new Promise(() => {
            readSignal = () => {
              later = ctx.signal
            }
          }),
      }),
    })
    const c = await t.connect()
    c.send({ ...request('slow', undefined), ref: 1 })
    await expect.poll(() => readSignal).toBeDefined()
    await c.close()
    await expect.poll(() => t.server.connections().length).toBe(0)
    readSignal?.()
    expect(later?.aborted).toBe(true)
    expect(later?.reason).toBeInstanceOf(Error)
  })

  it('handles the messages after a request while its handler runs', async () => {
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers({ slow: () => new Promise(() => {}) }),
    })
    const c = await t.connect()
    c.send({ ...request('slow', undefined), ref: 'slow' })
    await expect(c.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
  })

  it('refuses past maxRequestsInFlight with too_many_requests, announced in welcome', async () => {
    await using t = await startTestServer({
      protocol: app,
      maxRequestsInFlight: 2,
      handlers: handlers({ slow: () => new Promise(() => {}) }),
    })
    const c = await t.connect()
    expect(c.received('welcome')[0]?.limits.maxRequestsInFlight).toBe(2)
    c.send({ ...request('slow', undefined), ref: 1 })
    c.send({ ...request('slow', undefined), ref: 2 })
    await expect(c.request(request('createRoom', { name: 'a' }))).resolves.toMatchObject({
      type: 'error',
      code: 'too_many_requests',
    })
  })

  it('counts requests toward the rate limit', async () => {
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers(),
      rateLimitPerSec: 1,
      rateLimitBurst: 2,
      now: () => 0,
    })
    const c = await t.connect()
    for (let ref = 1; ref <= 3; ref++) c.send({ ...request('createRoom', { name: 'a' }), ref })
    await expect(c.next('error')).resolves.toMatchObject({ code: 'rate_limited', ref: 3 })
    expect(c.received('reply')).toHaveLength(2)
  })

  it('runs a room request for a member only, telling the handler its room', async () => {
    await using t = await startTestServer({ protocol: app, handlers: handlers() })
    const c = await t.connect()
    await expect(c.request(request('rename', { to: 'b' }, { room: 'lobby' }))).resolves.toMatchObject({
      code: 'not_joined',
      room: 'lobby',
    })
    await expect(c.request(request('rename', { to: 'b' }))).resolves.toMatchObject({ code: 'invalid_event' })
    await expect(c.request(request('createRoom', { name: 'a' }, { room: 'lobby' }))).resolves.toMatchObject({
      code: 'invalid_event',
    })
    // Sent right after the join, without waiting: it starts only once the join was handled.
    c.send({ type: 'join', room: 'lobby' })
    await expect(c.request(request('rename', { to: 'b' }, { room: 'lobby' }))).resolves.toMatchObject({
      type: 'reply',
      output: { room: 'lobby' },
    })
  })

  it('answers a resend of an idempotent request with the first result, also on another connection', async () => {
    let runs = 0
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers({ claim: () => ({ n: ++runs }) }),
    })
    const a = await t.connect()
    const first = request('claim', { seat: 1 }, { id: 'same' })
    await expect(a.request(first)).resolves.toMatchObject({ output: { n: 1 } })
    await a.close()
    const b = await t.connect()
    await expect(b.request(first)).resolves.toMatchObject({ output: { n: 1 } })
    await expect(b.request(request('claim', { seat: 1 }, { id: 'other' }))).resolves.toMatchObject({
      output: { n: 2 },
    })
    expect(runs).toBe(2)
  })

  it('makes a resend that arrives while the first run is going wait for it', async () => {
    let runs = 0
    let release: (() => void) | undefined
    await using t = await startTestServer({
      protocol: app,
      handlers: handlers({
        claim: () =>
          new Promise((resolve) => {
            runs++
            release = () => resolve({ n: runs })
          }),
      }),
    })
    const a = await t.connect()
    const b = await t.connect()
    const msg = request('claim', { seat: 1 }, { id: 'k' })
    const answers = Promise.all([a.request(msg), b.request(msg)])
    await expect.poll(() => release).toBeDefined()
    release?.()
    const [fromA, fromB] = (await answers) as (ServerMessage & { output?: unknown })[]
    expect(fromA?.output).toEqual({ n: 1 })
    expect(fromB?.output).toEqual({ n: 1 })
    expect(runs).toBe(1)
  })

  it('counts requests per name, errors by code, and their duration', async () => {
    await using t = await startTestServer({ protocol: app, handlers: handlers() })
    const c = await t.connect()
    await c.request(request('createRoom', { name: 'a' }))
    await c.request(request('createRoom', { name: 'taken' }))
    await c.request(request('made-up', {}))
    const text = await t.server.metrics.metrics()
    expect(text).toContain('roomwire_requests_total{name="createRoom"} 2')
    expect(text).toContain('roomwire_requests_total{name="other"} 1')
    expect(text).toContain('roomwire_request_errors_total{name="createRoom",code="name_taken"} 1')
    expect(text).toContain('roomwire_request_duration_seconds_count{name="createRoom"} 2')
  })
})
