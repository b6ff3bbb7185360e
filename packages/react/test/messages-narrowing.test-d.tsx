import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import { type ListedMessage, useMessages } from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }), typing: z.object({ on: z.boolean() }) },
})
type Chat = typeof chat

describe('useMessages narrows by event', () => {
  it('narrows data when the event is checked, pending or received', () => {
    const { messages } = useMessages<Chat>('general')
    for (const m of messages) {
      if (m.event === 'chat') expectTypeOf(m.data.text).toBeString()
      if (m.event === 'typing') expectTypeOf(m.data.on).toBeBoolean()
      // @ts-expect-error: `text` is a chat field, and the event was not checked
      void m.data.text
      // @ts-expect-error: a typing message has no text
      if (m.event === 'typing') void m.data.text
      if (m.status === 'sending') {
        expectTypeOf(m.phase).toEqualTypeOf<'queued' | 'sent'>()
        expectTypeOf(m.seq).toBeNull()
      }
      if (m.status === 'received') expectTypeOf(m.seq).toBeNumber()
      if (m.status === 'failed') expectTypeOf(m.error.code).toBeString()
    }
  })

  it('narrows the list to the events of the filter', () => {
    const { messages } = useMessages<Chat, 'chat'>('general', { events: ['chat'] })
    expectTypeOf(messages[0]?.event).toEqualTypeOf<'chat' | undefined>()
    for (const m of messages) expectTypeOf(m.data.text).toBeString()
    expectTypeOf(messages).toEqualTypeOf<readonly ListedMessage<Chat, 'chat'>[]>()
    // @ts-expect-error: the filter must only list events of the narrowed type
    useMessages<Chat, 'chat'>('general', { events: ['chat', 'typing'] })
    // @ts-expect-error: a narrowed list needs its filter (without it every event is listed)
    useMessages<Chat, 'chat'>('general', { limit: 10 })
    // @ts-expect-error: not a declared event
    useMessages<Chat, 'shout'>('general', { events: ['shout'] })
  })

  it('lists every event without a narrowed type', () => {
    const { messages } = useMessages<Chat>('general', { events: ['chat'] })
    expectTypeOf(messages[0]?.event).toEqualTypeOf<'chat' | 'typing' | undefined>()
  })
})
