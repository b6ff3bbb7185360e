import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import {
  type ClientSnapshot,
  createClient,
  type DeliveryStatus,
  type Member,
  type MessageLogEntry,
  type MessageMeta,
  type PublishResult,
  type RoomSnapshot,
} from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }), typing: z.object({ on: z.boolean() }) },
  presence: z.object({ name: z.string() }),
  direct: { poke: z.object({ n: z.number() }) },
})

describe('typed by the protocol', () => {
  const client = createClient({ url: 'ws://x', protocol: chat, autoConnect: false })
  const room = client.join('general', { presence: { name: 'ada' } })

  it('types publish by event name', () => {
    expectTypeOf(room.publish('chat', { text: 'hi' })).toEqualTypeOf<Promise<PublishResult>>()
    // @ts-expect-error: not a declared event
    void room.publish('nope', { text: 'hi' })
    // @ts-expect-error: wrong payload
    void room.publish('chat', { text: 1 })
    // @ts-expect-error: payload of another event
    void room.publish('typing', { text: 'hi' })
  })

  it('types handlers by event name', () => {
    room.on('chat', (data, meta) => {
      expectTypeOf(data).toEqualTypeOf<{ text: string }>()
      expectTypeOf(meta).toEqualTypeOf<MessageMeta>()
    })
    // @ts-expect-error: not a declared event
    room.on('nope', () => {})
  })

  it('types lifecycle events and members with presence', () => {
    room.on('member_joined', (member) => {
      expectTypeOf(member).toEqualTypeOf<Member<typeof chat>>()
      expectTypeOf(member.presence).toEqualTypeOf<{ name: string } | undefined>()
    })
    room.on('resync', (info) => {
      expectTypeOf(info.reason).toEqualTypeOf<'not_recovered' | 'epoch' | 'reset' | 'gap'>()
    })
    expectTypeOf(room.getSnapshot()).toEqualTypeOf<RoomSnapshot<typeof chat>>()
  })

  it('narrows onMessage by event', () => {
    room.onMessage((m) => {
      if (m.event === 'chat') expectTypeOf(m.data).toEqualTypeOf<{ text: string }>()
      else expectTypeOf(m.data).toEqualTypeOf<{ on: boolean }>()
    })
  })

  it('types presence and directs', () => {
    void room.setPresence({ name: 'bob' })
    // @ts-expect-error: wrong presence shape
    void room.setPresence({ name: 1 })
    void client.direct('c1', 'poke', { n: 1 })
    // @ts-expect-error: not a declared direct event
    void client.direct('c1', 'nope', { n: 1 })
    // @ts-expect-error: wrong direct payload
    void client.direct('c1', 'poke', { n: '1' })
    client.onDirect('poke', (data, meta) => {
      expectTypeOf(data).toEqualTypeOf<{ n: number }>()
      expectTypeOf(meta.from).toBeString()
    })
  })

  it('types the message log by the protocol', () => {
    const log = room.messageLog({ limit: 50, events: ['chat'] })
    void log.send('chat', { text: 'hi' })
    // @ts-expect-error: wrong payload
    void log.send('chat', { text: 1 })
    // @ts-expect-error: not a declared event
    room.messageLog({ events: ['shout'] })
    expectTypeOf(log.getSnapshot()).toEqualTypeOf<readonly MessageLogEntry<typeof chat>[]>()
    expectTypeOf(log.getSnapshot()[0]?.status).toEqualTypeOf<DeliveryStatus | undefined>()
  })

  it('has a flat client snapshot', () => {
    expectTypeOf(client.getSnapshot()).toEqualTypeOf<ClientSnapshot>()
    expectTypeOf(client.getSnapshot().retryAt).toEqualTypeOf<number | null>()
    expectTypeOf(client.getSnapshot().status).toEqualTypeOf<
      'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized'
    >()
  })
})

describe('without a protocol', () => {
  const client = createClient({ url: 'ws://x', autoConnect: false })
  const room = client.join('r')

  it('accepts any event name and hands handlers unknown data', () => {
    void room.publish('anything', { whatever: true })
    room.on('anything', (data) => {
      expectTypeOf(data).toBeUnknown()
    })
    room.on('member_left', (member) => {
      expectTypeOf(member.id).toBeString()
    })
  })
})

describe('the WebSocket option', () => {
  it('takes the browser WebSocket and ws as they are', () => {
    // A handler type narrower than never in WebSocketLike would refuse the DOM's (ev: Event) => any.
    expectTypeOf(globalThis.WebSocket).toExtend<import('../src/index').WebSocketConstructor>()
    createClient({ url: 'ws://x/ws', WebSocket: globalThis.WebSocket })
  })
})
