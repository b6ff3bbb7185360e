import type { AddressInfo } from 'node:net'
import { defineProtocol } from '@roomwire/protocol'
import {
  type Clock,
  createRoomServer,
  RequestError,
  type RequestHandlers,
  type RoomServerOptions,
} from '@roomwire/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import { createClient, RoomwireError } from '../../src/index'

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ id: z.string() }),
      errors: ['name_taken'],
    },
    wait: { input: z.object({ ms: z.int() }), output: z.null() },
    members: { input: z.void(), output: z.object({ count: z.int() }), room: true },
    gate: { input: z.void(), output: z.string() },
  },
})
type App = typeof app

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Signals of the `wait` handlers, in call order, to see when the server told them to stop. */
const signals: AbortSignal[] = []

/** Opens the `gate` handlers waiting, in call order. */
const gates: (() => void)[] = []

const handlers: RequestHandlers<App> = {
  createRoom: async ({ name }) => {
    if (name === 'taken') throw new RequestError('name_taken', 'That name is taken')
    return { id: `r_${name}` }
  },
  // Never answers by itself: it ends when its signal fires (a timeout, or its caller gone).
  wait: (_input, ctx) => {
    signals.push(ctx.signal)
    return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)))
  },
  members: async (_input, ctx) => ({ count: (await ctx.server.roomInfo(ctx.room))?.members.length ?? 0 }),
  gate: () => new Promise((resolve) => gates.push(() => resolve('open'))),
}

/** A server clock that moves only in `advance` (its intervals never fire): a shutdown's steps, one at a time. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0
  let next = 0
  const timers = new Map<number, { at: number; run: () => void }>()
  return {
    now: () => now,
    setTimeout: (run, ms) => {
      timers.set(++next, { at: now + ms, run })
      return next
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    setInterval: () => 0,
    clearInterval: () => {},
    advance(ms) {
      now += ms
      const due = [...timers].filter(([, t]) => t.at <= now).sort(([, a], [, b]) => a.at - b.at)
      for (const [id, timer] of due) {
        timers.delete(id)
        timer.run()
      }
    },
  }
}

async function start(options: Partial<RoomServerOptions<App>> = {}) {
  const server = createRoomServer({ port: 0, host: '127.0.0.1', protocol: app, handlers, ...options })
  await server.ready
  cleanup.push(() => server.close({ timeoutMs: 500 }))
  const client = createClient({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    protocol: app,
    reconnect: { initialMs: 20, maxMs: 50 },
    logger: { error: () => {} },
  })
  cleanup.push(() => client.close())
  return { server, client }
}

describe('requests between the SDK client and the real server', () => {
  it('answers a typed request with its output', async () => {
    const { client } = await start()
    await expect(client.request('createRoom', { name: 'lobby' })).resolves.toEqual({ id: 'r_lobby' })
  })

  it('rejects with the code the handler refused with', async () => {
    const { client } = await start()
    const error = await client.request('createRoom', { name: 'taken' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RoomwireError)
    expect(error).toMatchObject({ code: 'name_taken', message: 'That name is taken' })
  })

  it('answers a room request with what the handler read through the server API', async () => {
    const { client } = await start()
    const room = client.join('lobby')
    await expect(room.request('members')).resolves.toEqual({ count: 1 })
  })

  it("rejects with timeout when the server's handler timeout passes, and the handler's signal fires", async () => {
    const { client } = await start({ requestTimeoutMs: 50 })
    signals.length = 0
    await expect(client.request('wait', { ms: 0 })).rejects.toMatchObject({ code: 'timeout' })
    expect(signals[0]?.aborted).toBe(true)
  })

  it('fires the handler signal when the caller closes mid-request', async () => {
    const { client } = await start()
    signals.length = 0
    const pending = client.request('wait', { ms: 0 })
    await vi.waitFor(() => expect(signals).toHaveLength(1))
    client.close()
    await expect(pending).rejects.toMatchObject({ code: 'closed' })
    await vi.waitFor(() => expect(signals[0]?.aborted).toBe(true))
  })

  it("cancels the server's handler when the caller aborts: its signal fires and its slot is free", async () => {
    // One slot, and a server timeout far past the test's: only the cancel can free it.
    const { client } = await start({ maxRequestsInFlight: 1, requestTimeoutMs: 60_000 })
    signals.length = 0
    const controller = new AbortController()
    const pending = client.request('wait', { ms: 0 }, { signal: controller.signal })
    await vi.waitFor(() => expect(signals).toHaveLength(1))
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'aborted' })
    await vi.waitFor(() => expect(signals[0]?.aborted).toBe(true))
    expect(signals[0]?.reason).toMatchObject({ code: 'cancelled' })
    // The next request takes the freed slot at once, and no late answer of the first one gets in its way.
    await expect(client.request('createRoom', { name: 'a' })).resolves.toEqual({ id: 'r_a' })
  })

  it('holds back requests past the announced in-flight cap instead of getting them refused', async () => {
    const { client } = await start({ maxRequestsInFlight: 2, requestTimeoutMs: 100 })
    signals.length = 0
    const waits = [1, 2, 3].map(() => client.request('wait', { ms: 0 }).catch((e: RoomwireError) => e.code))
    await vi.waitFor(() => expect(signals).toHaveLength(2))
    // The third goes once a slot is free (the first two time out on the server).
    await expect(Promise.all(waits)).resolves.toEqual(['timeout', 'timeout', 'timeout'])
    expect(signals).toHaveLength(3)
  })

  it('gets the answer of a request being handled when the server shuts down, before the close', async () => {
    const clock = manualClock()
    const { server, client } = await start({ clock })
    gates.length = 0
    const pending = client.request('gate')
    await vi.waitFor(() => expect(gates).toHaveLength(1))
    const closing = server.close({ timeoutMs: 5_000 })
    clock.advance(0) // the connection's turn to be closed: it waits for its answer
    gates[0]?.()
    await expect(pending).resolves.toBe('open')
    await closing
  })
})
