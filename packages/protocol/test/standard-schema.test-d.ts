import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expectTypeOf, it } from 'vitest'
import * as zm from 'zod/mini'
import {
  defineProtocol,
  type EventData,
  type EventInput,
  type EventName,
  type PresenceInput,
  type PresenceState,
} from '../src/index'

describe('defineProtocol types from any Standard Schema', () => {
  it('infers zod/mini input and output', () => {
    const p = defineProtocol({
      events: { chat: zm.object({ text: zm.string() }), n: zm.pipe(zm.string(), zm.transform(Number)) },
      presence: zm.object({ name: zm.optional(zm.string()) }),
    })
    expectTypeOf<EventName<typeof p>>().toEqualTypeOf<'chat' | 'n'>()
    expectTypeOf<EventInput<typeof p, 'chat'>>().toEqualTypeOf<{ text: string }>()
    expectTypeOf<EventInput<typeof p, 'n'>>().toEqualTypeOf<string>()
    expectTypeOf<EventData<typeof p, 'n'>>().toEqualTypeOf<number>()
    expectTypeOf<PresenceState<typeof p>>().toEqualTypeOf<{ name?: string | undefined }>()
  })

  it('infers valibot input and output', () => {
    const p = defineProtocol({
      events: {
        at: v.pipe(
          v.string(),
          v.transform((s) => new Date(s)),
        ),
      },
      presence: v.object({ name: v.string() }),
    })
    expectTypeOf<EventInput<typeof p, 'at'>>().toEqualTypeOf<string>()
    expectTypeOf<EventData<typeof p, 'at'>>().toEqualTypeOf<Date>()
    expectTypeOf<PresenceInput<typeof p>>().toEqualTypeOf<{ name: string }>()
  })

  it('infers arktype output', () => {
    const p = defineProtocol({ events: { chat: type({ text: 'string' }) } })
    expectTypeOf<EventData<typeof p, 'chat'>>().toEqualTypeOf<{ text: string }>()
  })

  it('refuses a value that is not a Standard Schema', () => {
    // @ts-expect-error: a plain object is not a schema
    defineProtocol({ events: { chat: { text: 'string' } } })
  })
})
