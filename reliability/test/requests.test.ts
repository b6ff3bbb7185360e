import type { AddressInfo } from 'node:net'
import { createClient } from '@roomwire/client'
import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer, type RequestHandlers } from '@roomwire/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import { type ChaosProxy, startChaosProxy } from './support/chaos-proxy'

/**
 * Requests across a connection cut by the chaos proxy (a dead link: RST, no close frame), with the SDK
 * client and the real server: an idempotent request is sent again on the next connection and answered
 * with the first result, any other fails with `disconnected`; neither runs twice.
 */

const app = defineProtocol({
  requests: {
    claim: { input: z.object({ seat: z.int() }), output: z.object({ run: z.int() }), idempotent: true },
    order: { input: z.object({ item: z.string() }), output: z.object({ run: z.int() }) },
  },
})

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** A server whose handlers wait for `release()` and count their runs, behind a chaos proxy. */
async function setup() {
  let runs = 0
  const waiting: (() => void)[] = []
  const run = () =>
    new Promise<{ run: number }>((resolve) => {
      const n = ++runs
      waiting.push(() => resolve({ run: n }))
    })
  const handlers: RequestHandlers<typeof app> = { claim: run, order: run }
  const server = createRoomServer({ port: 0, host: '127.0.0.1', protocol: app, handlers, logLevel: 'silent' })
  await server.ready
  cleanup.push(() => server.close({ timeoutMs: 500 }))
  const proxy: ChaosProxy = await startChaosProxy((server.address() as AddressInfo).port)
  cleanup.push(() => proxy.close())
  const client = createClient({
    url: `ws://127.0.0.1:${proxy.port}/ws`,
    protocol: app,
    reconnect: { initialMs: 20, maxMs: 50 },
    logger: { error: () => {} },
  })
  cleanup.push(() => client.close())
  return {
    client,
    proxy,
    runs: () => runs,
    waiting: () => waiting.length,
    release: () => {
      for (const resolve of waiting.splice(0)) resolve()
    },
  }
}

describe('requests across a cut link', () => {
  it('answers an idempotent request sent again after the cut with the first run, which ran once', async () => {
    const t = await setup()
    const answer = t.client.request('claim', { seat: 7 })
    await vi.waitFor(() => expect(t.waiting()).toBe(1))
    expect(t.proxy.cutRandom('abrupt')).toBe(true)
    // The server finishes the first run after its caller is gone; the resend gets what it returned.
    await vi.waitFor(() => expect(t.proxy.connections).toBe(2))
    t.release()
    await expect(answer).resolves.toEqual({ run: 1 })
    expect(t.runs()).toBe(1)
  })

  it('fails a request that is not idempotent with disconnected after the cut, and never sends it again', async () => {
    const t = await setup()
    const answer = t.client.request('order', { item: 'tea' })
    await vi.waitFor(() => expect(t.waiting()).toBe(1))
    t.proxy.cutRandom('abrupt')
    await expect(answer).rejects.toMatchObject({ code: 'disconnected' })
    await vi.waitFor(() => expect(t.client.status).toBe('open'))
    t.release()
    const next = t.client.request('order', { item: 'cake' })
    await vi.waitFor(() => expect(t.waiting()).toBe(1))
    t.release()
    await expect(next).resolves.toEqual({ run: 2 })
    expect(t.runs()).toBe(2)
  })
})
