import type { AddressInfo } from 'node:net'
import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer } from '@roomwire/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as zm from 'zod/mini'
import { type Client, createClient } from '../../src/index'

// The path a size-minded app takes (issue #15): its schemas in zod/mini, on both ends, over real sockets.
const chat = defineProtocol({
  events: { chat: zm.object({ text: zm.string().check(zm.maxLength(20)) }) },
  presence: zm.object({ name: zm.string() }),
})

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function start(): Promise<string> {
  const server = createRoomServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', protocol: chat })
  await server.ready
  cleanup.push(() => server.close())
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
}

function connect(url: string): Client<typeof chat> {
  const client = createClient({ url, protocol: chat, logger: { error: () => {} } })
  cleanup.push(() => client.close())
  return client
}

function connectUntyped(url: string): Client {
  const client = createClient({ url, logger: { error: () => {} } })
  cleanup.push(() => client.close())
  return client
}

describe('a zod/mini protocol end to end', () => {
  it('carries a typed chat message and presence from one client to another', async () => {
    const url = await start()
    const ada = connect(url).join('general', { presence: { name: 'Ada' } })
    const bob = connect(url).join('general', { presence: { name: 'Bob' } })
    const got: string[] = []
    bob.on('chat', (data) => got.push(data.text))
    await Promise.all([ada.ready, bob.ready])
    await ada.publish('chat', { text: 'hello' })
    await vi.waitFor(() => expect(got).toEqual(['hello']))
    await vi.waitFor(() => expect(bob.members.map((m) => m.presence)).toContainEqual({ name: 'Ada' }))
  })

  it('is refused by the client before sending, in the protocol words', async () => {
    const room = connect(await start()).join('general')
    await room.ready
    await expect(room.publish('chat', { text: 'x'.repeat(21) })).rejects.toMatchObject({
      code: 'invalid_event',
      message: 'data.text: Too big: expected string to have <=20 characters',
    })
  })

  it('is enforced by the server for a client that has no protocol', async () => {
    const room = connectUntyped(await start()).join('general')
    await room.ready
    await expect(room.publish('chat', { text: 5 })).rejects.toMatchObject({
      code: 'invalid_event',
      message: 'data.text: must be a string',
    })
    await expect(room.publish('shout', {})).rejects.toMatchObject({ code: 'invalid_event' })
  })
})
