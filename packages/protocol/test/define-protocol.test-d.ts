import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import {
  type DirectData,
  type DirectName,
  defineProtocol,
  type EventData,
  type EventInput,
  type EventName,
  type PresenceInput,
  type PresenceState,
  type Protocol,
  type UntypedProtocol,
} from '../src/index'

const chat = defineProtocol({
  events: {
    chat: z.object({ text: z.string() }),
    stamp: z.object({ at: z.string().transform((s) => new Date(s)) }),
  },
  presence: z.object({ name: z.string() }),
  direct: { poke: z.object({ times: z.number() }) },
})
type Chat = typeof chat

/** A stand-in for a typed publish: what server and client build on these helpers. */
declare function publish<P extends Protocol, K extends EventName<P>>(
  p: P,
  event: K,
  data: EventInput<P, K>,
): void

describe('defineProtocol types', () => {
  it('infers event names', () => {
    expectTypeOf<EventName<Chat>>().toEqualTypeOf<'chat' | 'stamp'>()
    expectTypeOf<DirectName<Chat>>().toEqualTypeOf<'poke'>()
  })

  it('infers input and output payloads separately', () => {
    expectTypeOf<EventInput<Chat, 'stamp'>>().toEqualTypeOf<{ at: string }>()
    expectTypeOf<EventData<Chat, 'stamp'>>().toEqualTypeOf<{ at: Date }>()
    expectTypeOf<EventData<Chat, 'chat'>>().toEqualTypeOf<{ text: string }>()
    expectTypeOf<DirectData<Chat, 'poke'>>().toEqualTypeOf<{ times: number }>()
  })

  it('infers presence state', () => {
    expectTypeOf<PresenceInput<Chat>>().toEqualTypeOf<{ name: string }>()
    expectTypeOf<PresenceState<Chat>>().toEqualTypeOf<{ name: string }>()
  })

  it('accepts declared events with the right payload', () => {
    publish(chat, 'chat', { text: 'hi' })
    publish(chat, 'stamp', { at: '2026-01-01' })
  })

  it('rejects unknown event names and wrong payloads at compile time', () => {
    // @ts-expect-error: 'shout' is not declared
    publish(chat, 'shout', { text: 'hi' })
    // @ts-expect-error: text must be a string
    publish(chat, 'chat', { text: 1 })
    // @ts-expect-error: payload is required
    publish(chat, 'chat')
    // @ts-expect-error: the input of stamp is a string, not a Date
    publish(chat, 'stamp', { at: new Date() })
  })

  it('gives unknown payloads and any event name when nothing is declared', () => {
    const open = defineProtocol()
    expectTypeOf(open).toEqualTypeOf<UntypedProtocol>()
    expectTypeOf<EventName<typeof open>>().toEqualTypeOf<string>()
    expectTypeOf<EventData<typeof open, 'anything'>>().toEqualTypeOf<unknown>()
    expectTypeOf<PresenceState<typeof open>>().toEqualTypeOf<unknown>()
    publish(open, 'anything', 42)
  })

  it('types only what was declared', () => {
    const presenceOnly = defineProtocol({ presence: z.object({ x: z.number() }) })
    expectTypeOf<EventName<typeof presenceOnly>>().toEqualTypeOf<string>()
    expectTypeOf<PresenceState<typeof presenceOnly>>().toEqualTypeOf<{ x: number }>()
  })
})
