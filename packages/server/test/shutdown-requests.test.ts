import { type ClientMessage, defineProtocol } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import type { RequestHandlers } from '../src/index'
import { startTestServer } from './helpers'
import { manualClock } from './manual-clock'

const app = defineProtocol({
  requests: {
    slow: { input: z.void(), output: z.string() },
    claim: { input: z.void(), output: z.string(), idempotent: true },
  },
})

const request = (name: string, id: string, ref: string) =>
  ({ type: 'request', name, id, ref }) as ClientMessage

/** A `slow` handler that answers when the test says so, or with `stopped` once its signal fires. */
function held() {
  const signals: AbortSignal[] = []
  const releases: (() => void)[] = []
  const slow: RequestHandlers['slow'] = (_input, ctx) => {
    signals.push(ctx.signal)
    return new Promise((resolve) => {
      releases.push(() => resolve('done'))
      ctx.signal.addEventListener('abort', () => resolve('stopped'))
    })
  }
  return { signals, releases, handlers: { slow, claim: slow } }
}

/** What a client received, as `type` (or `type:ref`, `type:code`), in order. */
const trail = (messages: { type: string; ref?: unknown; code?: unknown }[]) =>
  messages
    .filter((m) => m.type !== 'welcome')
    .map((m) => (m.type === 'system' ? 'system' : `${m.type}:${String(m.code ?? m.ref)}`))

describe('shutdown and the requests being handled', () => {
  it("writes the reply of a request being handled before its connection's close, refusing new ones", async () => {
    const clock = manualClock()
    const { releases, handlers } = held()
    await using t = await startTestServer({ clock, protocol: app, handlers, shutdownSpreadMs: 0 })
    const c = await t.connect()
    c.send(request('slow', 'a', 'first'))
    await expect.poll(() => releases.length).toBe(1)
    const closing = t.server.close({ timeoutMs: 5_000 })
    await c.next('system')
    clock.advance(0) // its turn in the spread of closes: it waits for its answer
    await expect(c.request(request('slow', 'b', 'late'))).resolves.toMatchObject({ code: 'unavailable' })
    await expect(c.request({ type: 'ping', ref: 'p' })).resolves.toMatchObject({ type: 'pong' })
    releases[0]?.()
    expect((await c.closed).code).toBe(1001)
    expect(trail(c.messages)).toEqual(['system', 'error:unavailable', 'pong:p', 'reply:first'])
    expect(c.received('reply')[0]).toMatchObject({ output: 'done' })
    await closing
  })

  it('waits for a resend waiting on a first run of the same id, on another connection', async () => {
    const clock = manualClock()
    const { releases, handlers } = held()
    await using t = await startTestServer({ clock, protocol: app, handlers, shutdownSpreadMs: 0 })
    const a = await t.connect()
    const b = await t.connect()
    a.send(request('claim', 'k', 'from-a'))
    await expect.poll(() => releases.length).toBe(1)
    b.send(request('claim', 'k', 'from-b'))
    await b.request({ type: 'ping' })
    const closing = t.server.close({ timeoutMs: 5_000 })
    await b.next('system')
    clock.advance(0)
    releases[0]?.()
    expect((await b.closed).code).toBe(1001)
    expect(b.received('reply')).toEqual([{ type: 'reply', ref: 'from-b', output: 'done' }])
    expect(a.received('reply')).toEqual([{ type: 'reply', ref: 'from-a', output: 'done' }])
    await closing
  })

  it('answers unavailable, before the close, to a handler whose broadcast the shutting-down server refused', async () => {
    const clock = manualClock()
    let release: (() => void) | undefined
    const slow: RequestHandlers['slow'] = async (_input, ctx) => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
      await ctx.server.broadcast('r', 'e', 1)
      return 'sent'
    }
    await using t = await startTestServer({
      clock,
      protocol: app,
      handlers: { slow, claim: slow },
      shutdownSpreadMs: 0,
    })
    const c = await t.connect()
    c.send(request('slow', 'a', 'first'))
    await expect.poll(() => release).toBeDefined()
    const closing = t.server.close({ timeoutMs: 5_000 })
    await c.next('system')
    clock.advance(0)
    release?.()
    expect((await c.closed).code).toBe(1001)
    expect(c.received('error')).toEqual([
      expect.objectContaining({
        code: 'unavailable',
        ref: 'first',
        message: expect.stringContaining('shutting down'),
      }),
    ])
    await closing
  })

  it('fires the signal of a handler still running at the deadline, drops its answer and closes', async () => {
    const clock = manualClock()
    const { signals, handlers } = held()
    await using t = await startTestServer({ clock, protocol: app, handlers, shutdownSpreadMs: 0 })
    const c = await t.connect()
    c.send(request('slow', 'a', 'first'))
    await expect.poll(() => signals.length).toBe(1)
    const closing = t.server.close({ timeoutMs: 1_000 })
    await c.next('system')
    clock.advance(999)
    await expect(c.request({ type: 'ping', ref: 'p' })).resolves.toMatchObject({ type: 'pong' })
    expect(signals[0]?.aborted).toBe(false)
    clock.advance(1)
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[0]?.reason).toMatchObject({ code: 'closed', message: 'the server is shutting down' })
    // Closed at the deadline: the close frame, or the socket destroyed right after it.
    expect([1001, 1006]).toContain((await c.closed).code)
    expect(c.received('reply')).toEqual([])
    await closing
  })
})
