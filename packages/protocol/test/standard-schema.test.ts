import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import * as zm from 'zod/mini'
import { defineProtocol, type StandardSchemaV1 } from '../src/index'

describe('defineProtocol with Standard Schema validators other than zod classic', () => {
  it('validates zod/mini schemas, worded as the protocol words zod classic refusals', () => {
    const chat = defineProtocol({
      events: { chat: zm.object({ text: zm.string() }) },
      presence: zm.object({ name: zm.string() }),
    })
    expect(chat.validateEvent('chat', { text: 'hi', extra: 1 })).toEqual({
      success: true,
      data: { text: 'hi' },
    })
    expect(chat.validateEvent('chat', { text: 5 })).toEqual({
      success: false,
      error: { code: 'invalid_event', message: 'data.text: must be a string' },
    })
    expect(chat.validatePresence({})).toMatchObject({ error: { message: 'state.name: is required' } })
  })

  it('validates valibot schemas through ~standard, with valibot words and the issue path', () => {
    const chat = defineProtocol({
      events: { chat: v.object({ text: v.pipe(v.string(), v.maxLength(5)) }) },
      direct: { poke: v.object({ times: v.number() }) },
    })
    expect(chat.validateEvent('chat', { text: 'hi' })).toEqual({ success: true, data: { text: 'hi' } })
    expect(chat.validateEvent('chat', { text: 'too long' })).toEqual({
      success: false,
      error: { code: 'invalid_event', message: 'data.text: Invalid length: Expected <=5 but received 8' },
    })
    expect(chat.validateDirect('poke', { times: 'x' })).toMatchObject({
      error: { code: 'invalid_event', message: /^data\.times: Invalid type/ },
    })
    expect(chat.validateEvent('shout', {})).toMatchObject({ error: { message: /not a declared room event/ } })
  })

  it('validates arktype schemas through ~standard', () => {
    const chat = defineProtocol({
      events: { chat: type({ text: 'string' }) },
      presence: type({ name: 'string', 'typing?': 'boolean' }),
    })
    expect(chat.validateEvent('chat', { text: 'hi' })).toEqual({ success: true, data: { text: 'hi' } })
    expect(chat.validateEvent('chat', { text: 1 })).toMatchObject({
      success: false,
      error: { code: 'invalid_event', message: /^data\.text: must be a string/ },
    })
    expect(chat.validatePresence({ name: 'Ada', typing: 'yes' })).toMatchObject({
      error: { message: /^state\.typing: must be boolean/ },
    })
  })

  it('takes a path of segment objects, as Standard Schema allows, and the output of a transform', () => {
    // What a zod 3.24 schema or any hand-made validator looks like from here: only `~standard`.
    const upper: StandardSchemaV1<{ name: string }, string> = {
      '~standard': {
        version: 1,
        vendor: 'hand',
        validate: (value) =>
          typeof (value as { name?: unknown })?.name === 'string'
            ? { value: (value as { name: string }).name.toUpperCase() }
            : { issues: [{ message: 'needs a name', path: [{ key: 'who' }, 0] }] },
      },
    }
    const p = defineProtocol({ events: { hello: upper } })
    expect(p.validateEvent('hello', { name: 'ada' })).toEqual({ success: true, data: 'ADA' })
    expect(p.validateEvent('hello', {})).toEqual({
      success: false,
      error: { code: 'invalid_event', message: 'data.who[0]: needs a name' },
    })
  })

  it('refuses an asynchronous schema as a programming error: payloads are validated synchronously', () => {
    const later: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'hand', validate: async (value) => ({ value }) },
    }
    expect(() => defineProtocol({ events: { x: later } }).validateEvent('x', 1)).toThrow(
      /validates data synchronously/,
    )
  })
})
