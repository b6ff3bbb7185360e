import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import {
  type ApplicationErrorCode,
  createClient,
  isRetryable,
  type MessageLogEntry,
  type RoomwireErrorCode,
} from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }), typing: z.object({ on: z.boolean() }) },
})

describe('message log entries', () => {
  const room = createClient({ url: 'ws://x', protocol: chat, autoConnect: false }).join('r')

  it('are a union by event and by status', () => {
    const [m] = room.messageLog().getSnapshot()
    if (m === undefined) return
    if (m.event === 'chat') expectTypeOf(m.data).toEqualTypeOf<{ text: string }>()
    // @ts-expect-error: the event was not checked
    void m.data.text
    if (m.status === 'delivered' || m.status === 'received') {
      expectTypeOf(m.seq).toBeNumber()
      expectTypeOf(m.from).toBeString()
    }
    if (m.status === 'sending' || m.status === 'failed') expectTypeOf(m.seq).toBeNull()
  })

  it('narrow to the events of a filter named in the type', () => {
    const log = room.messageLog<'typing'>({ events: ['typing'] })
    expectTypeOf(log.getSnapshot()).toEqualTypeOf<readonly MessageLogEntry<typeof chat, 'typing'>[]>()
    // @ts-expect-error: the filter must list the narrowed events only
    room.messageLog<'typing'>({ events: ['chat'] })
    // @ts-expect-error: a narrowed log needs its filter
    room.messageLog<'typing'>({})
  })

  it('exports isRetryable for error codes', () => {
    expectTypeOf(isRetryable).parameters.toEqualTypeOf<[RoomwireErrorCode | ApplicationErrorCode]>()
  })
})
