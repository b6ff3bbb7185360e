import { defineProtocol } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { createTestServer } from '../src/index'

const app = defineProtocol({
  events: { chat: z.object({ text: z.string() }) },
  requests: {
    whoami: { input: z.object({}), output: z.object({ user: z.string(), role: z.string() }) },
    topic: { input: z.object({ topic: z.string() }), output: z.object({ room: z.string() }), room: true },
  },
})

describe('request handlers', () => {
  it("see the kit user's identity and data in their context", async () => {
    await using server = await createTestServer({
      protocol: app,
      handlers: {
        whoami: (_input, ctx) => ({ user: ctx.connection.user ?? '', role: String(ctx.connection.data) }),
        topic: (_input, ctx) => ({ room: ctx.room }),
      },
    })
    await using alice = await server.connect({ user: 'alice', data: 'admin' })
    await expect(alice.request('whoami', {})).resolves.toEqual({ user: 'alice', role: 'admin' })
  })

  it('answer a room request in the room the caller joined', async () => {
    await using server = await createTestServer({
      protocol: app,
      handlers: {
        whoami: () => ({ user: '', role: '' }),
        topic: async ({ topic }, ctx) => {
          await ctx.server.broadcast(ctx.room, 'chat', { text: `topic: ${topic}` })
          return { room: ctx.room }
        },
      },
    })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    const room = alice.join('general')
    await Promise.all([room.ready, bob.join('general').ready])
    await expect(room.request('topic', { topic: 'tests' })).resolves.toEqual({ room: 'general' })
    await expect(bob.room('general').next('chat')).resolves.toMatchObject({
      from: 'server',
      data: { text: 'topic: tests' },
    })
  })

  it('answer a request made during a cut once the client is back', async () => {
    await using server = await createTestServer({
      protocol: app,
      handlers: {
        whoami: (_input, ctx) => ({ user: ctx.connection.user ?? '', role: 'x' }),
        topic: () => ({ room: '' }),
      },
    })
    await using alice = await server.connect({ user: 'alice' })
    await server.cut(alice)
    await expect(alice.request('whoami', {})).resolves.toEqual({ user: 'alice', role: 'x' })
  })
})
