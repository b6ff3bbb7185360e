import { type ClientMessage, defineProtocol } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { type RequestHandlers, RoomServerError } from '../src/index'
import { startTestServer, type TestClient } from './helpers'

const app = defineProtocol({
  requests: {
    slow: { input: z.void(), output: z.null() },
    quick: { input: z.void(), output: z.string() },
    claim: { input: z.object({ seat: z.int() }), output: z.object({ n: z.int() }), idempotent: true },
  },
})

/** The handlers' signals, in call order, and what each one's handler returned. */
function recording(claim?: RequestHandlers['claim']) {
  const signals: AbortSignal[] = []
  const handlers: RequestHandlers = {
    // Ends only when its signal fires: a cancel, the timeout, its caller gone.
    slow: (_input, ctx) => {
      signals.push(ctx.signal)
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)))
    },
    quick: () => 'done',
    claim: claim ?? (() => ({ n: 1 })),
  }
  return { signals, handlers }
}

const request = (name: string, id: string, ref: string, input?: unknown) =>
  ({ type: 'request', name, id, ref, ...(input === undefined ? {} : { input }) }) as ClientMessage

/** Every frame carrying `ref` the client got so far, after a ping barrier (the connection's order). */
async function answersTo(c: TestClient, ref: string): Promise<unknown[]> {
  await c.request({ type: 'ping' })
  return c.messages.filter((m) => 'ref' in m && m.ref === ref)
}

describe('cancelling a request', () => {
  it("fires the handler's signal with reason cancelled, answers nothing, and frees its slot", async () => {
    const { signals, handlers } = recording()
    await using t = await startTestServer({ protocol: app, handlers, maxRequestsInFlight: 1 })
    const c = await t.connect()
    c.send(request('slow', 'a', 'first'))
    await expect.poll(() => signals.length).toBe(1)
    // At the cap: the next request is refused until the first one's slot is free.
    await expect(c.request(request('quick', 'b', 'refused'))).resolves.toMatchObject({
      code: 'too_many_requests',
    })
    c.send({ type: 'cancel', id: 'a' })
    await expect(c.request(request('quick', 'c', 'after'))).resolves.toMatchObject({
      type: 'reply',
      output: 'done',
    })
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[0]?.reason).toBeInstanceOf(RoomServerError)
    expect(signals[0]?.reason).toMatchObject({ code: 'cancelled' })
    expect(await answersTo(c, 'first')).toEqual([])
    const text = await t.server.metrics.metrics()
    expect(text).toContain('roomwire_request_errors_total{name="slow",code="cancelled"} 1')
  })

  it('changes nothing for an id that names no request being handled, and acks a cancel with a ref', async () => {
    const { signals, handlers } = recording()
    await using t = await startTestServer({ protocol: app, handlers })
    const c = await t.connect()
    await expect(c.request(request('quick', 'done-1', 'q'))).resolves.toMatchObject({ output: 'done' })
    c.send(request('slow', 'running', 'slow'))
    await expect.poll(() => signals.length).toBe(1)
    // Unknown, already answered, and another connection's: nothing is cancelled, nothing refused.
    await expect(c.request({ type: 'cancel', id: 'never-sent', ref: 'c1' })).resolves.toEqual({
      type: 'ack',
      ref: 'c1',
    })
    c.send({ type: 'cancel', id: 'done-1' })
    const other = await t.connect()
    other.send({ type: 'cancel', id: 'running' })
    await other.request({ type: 'ping' })
    await c.request({ type: 'ping' })
    expect(signals[0]?.aborted).toBe(false)
    expect(c.received('error')).toEqual([])
    expect(other.received('error')).toEqual([])
    // Cancelled twice: the second finds nothing.
    c.send({ type: 'cancel', id: 'running' })
    c.send({ type: 'cancel', id: 'running' })
    expect(await answersTo(c, 'slow')).toEqual([])
    expect(signals[0]?.aborted).toBe(true)
    expect(c.received('error')).toEqual([])
  })

  it('counts a cancel toward the rate limit like any message', async () => {
    const { handlers } = recording()
    await using t = await startTestServer({
      protocol: app,
      handlers,
      rateLimitPerSec: 1,
      rateLimitBurst: 2,
      now: () => 0,
    })
    const c = await t.connect()
    for (const ref of ['c1', 'c2', 'c3']) c.send({ type: 'cancel', id: 'x', ref })
    await expect(c.next('error')).resolves.toMatchObject({ code: 'rate_limited', ref: 'c3' })
    expect(c.received('ack').map((m) => m.ref)).toEqual(['c1', 'c2'])
  })

  it('forgets a cancelled idempotent request: a resend with its id runs the handler again', async () => {
    let runs = 0
    const started: AbortSignal[] = []
    const { handlers } = recording((_input, ctx) => {
      runs++
      if (runs > 1) return { n: runs }
      started.push(ctx.signal)
      return new Promise(() => {}) // ignores its signal: its late answer must not be remembered
    })
    await using t = await startTestServer({ protocol: app, handlers })
    const c = await t.connect()
    c.send(request('claim', 'k', 'first', { seat: 1 }))
    await expect.poll(() => started.length).toBe(1)
    c.send({ type: 'cancel', id: 'k' })
    await expect(c.request(request('claim', 'k', 'again', { seat: 1 }))).resolves.toMatchObject({
      type: 'reply',
      output: { n: 2 },
    })
    expect(started[0]?.aborted).toBe(true)
    expect(await answersTo(c, 'first')).toEqual([])
    // The resend's reply is the one remembered now.
    await expect(c.request(request('claim', 'k', 'third', { seat: 1 }))).resolves.toMatchObject({
      output: { n: 2 },
    })
    expect(runs).toBe(2)
  })

  it('answers neither the run nor its resend on the same connection when one cancel names both', async () => {
    const { handlers } = recording(
      // Ends when its signal fires: cancelling it settles the run the resend waits on, at once.
      (_input, ctx) =>
        new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ n: 1 }))),
    )
    await using t = await startTestServer({ protocol: app, handlers })
    const c = await t.connect()
    c.send(request('claim', 'k', 'first', { seat: 1 }))
    c.send(request('claim', 'k', 'resend', { seat: 1 }))
    c.send({ type: 'cancel', id: 'k' })
    // Before, the resend was answered unavailable ("the first run of this request failed").
    expect(await answersTo(c, 'resend')).toEqual([])
    expect(await answersTo(c, 'first')).toEqual([])
  })

  it('answers nothing to a cancelled resend waiting for the first run, which goes on for its own caller', async () => {
    let release: (() => void) | undefined
    let firstSignal: AbortSignal | undefined
    const { handlers } = recording(
      (_input, ctx) =>
        new Promise((resolve) => {
          firstSignal = ctx.signal
          release = () => resolve({ n: 1 })
        }),
    )
    await using t = await startTestServer({ protocol: app, handlers })
    const a = await t.connect()
    const b = await t.connect()
    a.send(request('claim', 'k', 'from-a', { seat: 1 }))
    await expect.poll(() => release).toBeDefined()
    b.send(request('claim', 'k', 'from-b', { seat: 1 }))
    b.send({ type: 'cancel', id: 'k' })
    await b.request({ type: 'ping' })
    expect(firstSignal?.aborted).toBe(false)
    release?.()
    await expect(a.next('reply')).resolves.toMatchObject({ ref: 'from-a', output: { n: 1 } })
    expect(await answersTo(b, 'from-b')).toEqual([])
  })
})
