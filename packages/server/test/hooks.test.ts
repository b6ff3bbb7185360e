import { defineProtocol } from '@roomwire/protocol'
import { describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import type { ConnectionInfo } from '../src/index'
import { startTestServer } from './helpers'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().max(20) }) },
  presence: z.object({ name: z.string() }),
  direct: { poke: z.object({ n: z.number() }) },
})

describe('the application protocol', () => {
  it('refuses a publish whose data the schema refuses with invalid_event naming the field', async () => {
    await using server = await startTestServer({ protocol: chat })
    await using alice = await server.connect({ join: 'r' })
    await expect(
      alice.request({ type: 'publish', room: 'r', event: 'chat', data: { text: 5 } }),
    ).resolves.toMatchObject({
      type: 'error',
      code: 'invalid_event',
      room: 'r',
      message: expect.stringContaining('data.text'),
    })
  })

  it('refuses an undeclared event with invalid_event', async () => {
    await using server = await startTestServer({ protocol: chat })
    await using alice = await server.connect({ join: 'r' })
    await expect(
      alice.request({ type: 'publish', room: 'r', event: 'nope', data: {} }),
    ).resolves.toMatchObject({
      code: 'invalid_event',
    })
  })

  it('refuses a presence state or direct data the schema refuses with invalid_event', async () => {
    await using server = await startTestServer({ protocol: chat })
    await using alice = await server.connect({ join: 'r' })
    // Each refusal names the field of its own frame: `state` in a presence frame, `presence` in a join.
    await expect(alice.request({ type: 'presence', room: 'r', state: { name: 1 } })).resolves.toMatchObject({
      code: 'invalid_event',
      message: expect.stringMatching(/^state\.name: /),
    })
    await expect(alice.request({ type: 'join', room: 'q', presence: {} })).resolves.toMatchObject({
      code: 'invalid_event',
      message: expect.stringMatching(/^presence\.name: /),
    })
    await expect(
      alice.request({ type: 'direct', to: alice.id, event: 'poke', data: { n: 'x' } }),
    ).resolves.toMatchObject({
      code: 'invalid_event',
    })
  })

  it('accepts what the schema accepts', async () => {
    await using server = await startTestServer({ protocol: chat })
    await using alice = await server.connect({ join: 'r' })
    await expect(
      alice.request({ type: 'publish', room: 'r', event: 'chat', data: { text: 'hi' } }),
    ).resolves.toMatchObject({
      type: 'ack',
      seq: 1,
    })
  })
})

describe('authorize', () => {
  it.each([
    ['join', { type: 'join', room: 'secret' }],
    ['publish', { type: 'publish', room: 'open', event: 'e', data: 1 }],
    ['presence', { type: 'presence', room: 'open', state: 1 }],
    ['direct', { type: 'direct', to: 'c_x', event: 'e', data: 1 }],
  ] as const)('answers a refused %s with forbidden', async (action, message) => {
    await using server = await startTestServer({
      authorize: (req) => req.action !== action || (req.action === 'join' && req.room !== 'secret'),
    })
    await using alice = await server.connect({ join: 'open' })
    await expect(alice.request({ ...message })).resolves.toMatchObject({ type: 'error', code: 'forbidden' })
  })

  it('is asked with the user, connection, room and action', async () => {
    const authorize = vi.fn(() => true)
    await using server = await startTestServer({ authorize, authenticate: () => ({ user: 'u1' }) })
    await using alice = await server.connect({ join: 'r' })
    expect(authorize).toHaveBeenCalledWith(
      expect.objectContaining({ action: 'join', room: 'r', user: 'u1', connectionId: alice.id }),
    )
  })

  it('costs a message that makes it throw an internal error, and nothing else', async () => {
    await using server = await startTestServer({
      authorize: (req) => {
        if (req.action === 'publish') throw new Error('boom')
        return true
      },
    })
    await using alice = await server.connect({ join: 'r' })
    await expect(alice.request({ type: 'publish', room: 'r', event: 'e', data: 1 })).resolves.toMatchObject({
      code: 'internal',
      room: 'r',
    })
    await expect(alice.request({ type: 'presence', room: 'r', state: 1 })).resolves.toMatchObject({
      type: 'ack',
    })
  })

  it('costs a message whose hook rejects an internal error', async () => {
    await using server = await startTestServer({
      authorize: async () => Promise.reject(new Error('later boom')),
    })
    await using alice = await server.connect()
    await expect(alice.request({ type: 'join', room: 'r' })).resolves.toMatchObject({ code: 'internal' })
    expect(await server.server.rooms()).toEqual([])
  })
})

describe('onPublish', () => {
  it('may refuse a publish with an error code', async () => {
    await using server = await startTestServer({
      onPublish: () => ({ error: 'forbidden', message: 'muted' }),
    })
    await using alice = await server.connect({ join: 'r' })
    await using bob = await server.connect({ join: 'r' })
    await expect(alice.request({ type: 'publish', room: 'r', event: 'e', data: 1 })).resolves.toMatchObject({
      code: 'forbidden',
      message: 'muted',
    })
    await bob.request({ type: 'ping' })
    expect(bob.received('message')).toHaveLength(0)
  })

  it('may change the data, for example after persisting it', async () => {
    const saved: unknown[] = []
    await using server = await startTestServer({
      onPublish: async ({ data, room }) => {
        saved.push({ room, data })
        return { data: { ...(data as object), saved: true } }
      },
    })
    await using alice = await server.connect({ join: 'r' })
    await using bob = await server.connect({ join: 'r' })
    alice.send({ type: 'publish', room: 'r', event: 'e', data: { text: 'hi' } })
    await expect(bob.next('message')).resolves.toMatchObject({ data: { text: 'hi', saved: true } })
    expect(saved).toEqual([{ room: 'r', data: { text: 'hi' } }])
  })

  it('costs the publish an internal error when it throws, and the connection keeps working', async () => {
    let first = true
    await using server = await startTestServer({
      onPublish: () => {
        if (first) {
          first = false
          throw new Error('db down')
        }
        return undefined
      },
    })
    await using alice = await server.connect({ join: 'r' })
    await expect(alice.request({ type: 'publish', room: 'r', event: 'e', data: 1 })).resolves.toMatchObject({
      code: 'internal',
    })
    await expect(alice.request({ type: 'publish', room: 'r', event: 'e', data: 2 })).resolves.toMatchObject({
      seq: 1,
    })
  })
})

describe('lifecycle hooks', () => {
  it('calls onConnect, onJoin, onLeave and onDisconnect with the connection', async () => {
    const events: string[] = []
    const label = (c: ConnectionInfo) => (c.id.startsWith('c_') ? 'c' : '?')
    await using server = await startTestServer({
      onConnect: (c) => void events.push(`connect:${label(c)}`),
      onJoin: (c, room) => void events.push(`join:${label(c)}:${room}`),
      onLeave: (c, room) => void events.push(`leave:${label(c)}:${room}`),
      onDisconnect: (c, close) => void events.push(`disconnect:${label(c)}:${close.code}`),
    })
    const alice = await server.connect({ join: 'r' })
    await alice.request({ type: 'leave', room: 'r' })
    alice.ws.close(1000)
    await alice.closed
    await vi.waitFor(() => expect(events).toContain('disconnect:c:1000'))
    expect(events).toEqual(['connect:c', 'join:c:r', 'leave:c:r', 'disconnect:c:1000'])
  })

  it('logs lifecycle hooks that throw or reject without affecting the connection', async () => {
    await using server = await startTestServer({
      onConnect: () => {
        throw new Error('x')
      },
      onJoin: async () => Promise.reject(new Error('y')),
      onDisconnect: () => {
        throw new Error('z')
      },
    })
    await using alice = await server.connect({ join: 'r' })
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
  })
})
