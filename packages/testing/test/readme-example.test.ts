import { defineProtocol } from '@roomwire/protocol'
import { createTestServer } from '@roomwire/testing'
import { expect, it } from 'vitest'
import * as z from 'zod'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().min(1).max(2000) }) },
  presence: z.object({ name: z.string() }),
  requests: {
    createRoom: {
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ room: z.string() }),
      errors: ['name_taken'],
    },
  },
})

it('chats, shows who is here, answers a request, and catches up after a dropped connection', async () => {
  const rooms = new Set(['general'])
  await using server = await createTestServer({
    protocol: chat,
    // The app's own rule, run as in production: muted users may read but not post.
    authorize: ({ action, connection }) => action !== 'publish' || connection.data !== 'muted',
    // The app's request handler, typed by the protocol; it refuses with a code the request declares.
    handlers: {
      createRoom: ({ name }, ctx) => {
        if (rooms.has(name)) return ctx.refuse('name_taken', `#${name} exists already`)
        rooms.add(name)
        return { room: name }
      },
    },
  })
  await using alice = await server.connect({ user: 'alice' })
  await using bob = await server.connect({ user: 'bob' })
  await using mallory = await server.connect({ user: 'mallory', data: 'muted' })

  const general = alice.join('general', { presence: { name: 'Alice' } })
  await general.ready
  await bob.join('general', { presence: { name: 'Bob' } }).ready
  await mallory.join('general').ready

  // Presence: Alice sees Bob arrive, with his name.
  await expect(alice.room('general').next('member_joined')).resolves.toMatchObject({
    user: 'bob',
    presence: { name: 'Bob' },
  })

  // Publish: Bob gets the message once; Alice's own comes back marked as hers.
  await general.publish('chat', { text: 'hi' })
  await expect(bob.room('general').next('chat')).resolves.toMatchObject({ data: { text: 'hi' }, own: false })
  await expect(alice.room('general').next('chat')).resolves.toMatchObject({ own: true })
  await bob.room('general').nothing('chat')

  // The app's authorize hook: Mallory's post is refused, and nobody sees it.
  await expect(mallory.room('general').handle.publish('chat', { text: 'spam' })).rejects.toMatchObject({
    code: 'forbidden',
  })
  await bob.room('general').nothing('chat')

  // Request/reply: the handler answers Alice, and refuses Bob with its declared code.
  await expect(alice.request('createRoom', { name: 'plans' })).resolves.toEqual({ room: 'plans' })
  await expect(bob.request('createRoom', { name: 'plans' })).rejects.toMatchObject({ code: 'name_taken' })

  // A cut: Bob's connection dies with no close frame. Alice sees him go and come back, and what she
  // posted meanwhile reaches him after his reconnect, once, in order.
  await server.cut(bob)
  await expect(alice.room('general').next('member_left')).resolves.toMatchObject({ user: 'bob' })
  await general.publish('chat', { text: 'while you were away' })
  const back = await alice.room('general').next('member_joined', { where: (m) => m.user === 'bob' })
  expect(back.presence).toEqual({ name: 'Bob' })
  await expect(bob.room('general').next('chat')).resolves.toMatchObject({
    data: { text: 'while you were away' },
    seq: 2,
  })
  expect(bob.room('general').received('resync')).toEqual([])
})
