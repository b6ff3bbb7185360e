import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import { useMembers, useMessages, usePresence, useRoom, useRoomEvent } from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }), typing: z.object({ typing: z.boolean() }) },
  presence: z.object({ name: z.string() }),
})
type Chat = typeof chat

describe('hook types', () => {
  it('types publish and presence by the protocol', () => {
    const room = useRoom<Chat>('general', { presence: { name: 'Ada' } })
    void room.publish('chat', { text: 'hi' })
    // @ts-expect-error: undeclared event
    void room.publish('shout', { text: 'hi' })
    // @ts-expect-error: wrong payload
    void room.publish('chat', { text: 1 })
    // @ts-expect-error: presence must match the schema
    useRoom<Chat>('general', { presence: { nick: 'Ada' } })
    expectTypeOf(room.members[0]?.presence).toEqualTypeOf<{ name: string } | undefined>()
  })

  it('types event handlers', () => {
    useRoomEvent<Chat, 'typing'>('general', 'typing', (data) => {
      expectTypeOf(data).toEqualTypeOf<{ typing: boolean }>()
    })
    // @ts-expect-error: undeclared event
    useRoomEvent<Chat>('general', 'shout', () => {})
  })

  it('types the message list, presence and member selectors', () => {
    const { messages, send } = useMessages<Chat>('general', { events: ['chat'] })
    void send('chat', { text: 'hi' })
    // @ts-expect-error: wrong payload
    void send('typing', { text: 'hi' })
    expectTypeOf(messages[0]?.event).toEqualTypeOf<'chat' | 'typing' | undefined>()
    const [me, setMe] = usePresence<Chat>('general')
    expectTypeOf(me).toEqualTypeOf<{ name: string } | undefined>()
    // @ts-expect-error: presence must match the schema
    void setMe({ name: 1 })
    const names = useMembers<Chat, string[]>('general', (members) =>
      members.map((m) => m.presence?.name ?? ''),
    )
    expectTypeOf(names).toEqualTypeOf<string[]>()
  })
})
