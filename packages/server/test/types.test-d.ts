import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import { createRoomServer, type RoomServer } from '../src/index'

// Server-side types from the protocol (issue #15): what the server sends and what its hooks receive.
const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }), typing: z.object({ on: z.boolean() }) },
  presence: z.object({ name: z.string() }),
  direct: { poke: z.object({ n: z.number() }) },
})

describe('a server typed by its protocol', () => {
  const rooms = createRoomServer({ noServer: true, protocol: chat })

  it('types broadcast by room event', () => {
    void rooms.broadcast('general', 'chat', { text: 'hi' })
    // @ts-expect-error: no such event
    void rooms.broadcast('general', 'chta', { text: 1 })
    // @ts-expect-error: text is a string
    void rooms.broadcast('general', 'chat', { text: 1 })
    // @ts-expect-error: a direct event is not a room event
    void rooms.broadcast('general', 'poke', { n: 1 })
  })

  it('types sendDirect and broadcastTo/All/Except by direct event', () => {
    void rooms.sendDirect('c_1', 'poke', { n: 1 })
    void rooms.broadcastAll('poke', { n: 1 })
    void rooms.broadcastTo(['c_1'], 'poke', { n: 1 })
    void rooms.broadcastExcept(['c_1'], 'poke', { n: 1 })
    // @ts-expect-error: n is a number
    void rooms.sendDirect('c_1', 'poke', { n: 'one' })
    // @ts-expect-error: a room event is not a direct event
    void rooms.broadcastAll('chat', { text: 'hi' })
    // @ts-expect-error: no such direct event
    void rooms.broadcastTo(['c_1'], 'pokee', { n: 1 })
    // @ts-expect-error: n is a number
    void rooms.broadcastExcept(['c_1'], 'poke', {})
  })

  it('types presence in roomInfo', async () => {
    const info = await rooms.roomInfo('general')
    expectTypeOf(info!.members[0]!.presence).toEqualTypeOf<{ name: string } | undefined>()
  })

  it('hands onPublish a union by event and authorize the declared names', () => {
    createRoomServer({
      noServer: true,
      protocol: chat,
      onPublish(context) {
        if (context.event === 'chat') expectTypeOf(context.data).toEqualTypeOf<{ text: string }>()
        else expectTypeOf(context.data).toEqualTypeOf<{ on: boolean }>()
        // @ts-expect-error: not a declared event
        if (context.event === 'chta') return
      },
      authorize(request) {
        if (request.action === 'publish') expectTypeOf(request.event).toEqualTypeOf<'chat' | 'typing'>()
        if (request.action === 'direct') expectTypeOf(request.event).toEqualTypeOf<'poke'>()
        return true
      },
    })
  })

  it('is still a RoomServer where the protocol does not matter', () => {
    const plain: RoomServer = rooms
    void plain
  })
})

describe('a server without a protocol', () => {
  const rooms = createRoomServer({ noServer: true })

  it('takes any event name and payload', () => {
    void rooms.broadcast('general', 'anything', { deep: [1] })
    void rooms.sendDirect('c_1', 'whatever', 42)
    createRoomServer({
      noServer: true,
      onPublish(context) {
        expectTypeOf(context.event).toEqualTypeOf<string>()
        expectTypeOf(context.data).toEqualTypeOf<unknown>()
      },
    })
  })
})
