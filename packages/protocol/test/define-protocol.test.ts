import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { defineProtocol } from '../src/index'

const chat = defineProtocol({
  events: {
    chat: z.object({ text: z.string().min(1).max(2000) }),
    typing: z.object({ typing: z.boolean() }),
  },
  presence: z.object({ name: z.string(), status: z.enum(['online', 'away']).optional() }),
  direct: { poke: z.object({ times: z.int().positive() }) },
})

describe('defineProtocol', () => {
  it('accepts a declared event with a valid payload and strips unknown keys', () => {
    expect(chat.validateEvent('chat', { text: 'hi', extra: 1 })).toEqual({
      success: true,
      data: { text: 'hi' },
    })
  })

  it('refuses a payload of the wrong shape with invalid_event and the zod issue path', () => {
    expect(chat.validateEvent('chat', { text: 5 })).toEqual({
      success: false,
      error: { code: 'invalid_event', message: 'data.text: must be a string' },
    })
    expect(chat.validateEvent('chat', {})).toMatchObject({ error: { message: 'data.text: is required' } })
    expect(chat.validateEvent('chat', null)).toMatchObject({ error: { message: 'data: must be an object' } })
  })

  it('refuses an event the protocol does not declare, naming the declared ones', () => {
    expect(chat.validateEvent('shout', {})).toEqual({
      success: false,
      error: {
        code: 'invalid_event',
        message: 'event: "shout" is not a declared room event (declared: chat, typing)',
      },
    })
  })

  it('does not find Object.prototype members as events', () => {
    for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'toString']) {
      expect(chat.validateEvent(name, {}).success).toBe(false)
      expect(chat.validateDirect(name, {}).success).toBe(false)
    }
  })

  it('validates presence state with the state path in the message', () => {
    expect(chat.validatePresence({ name: 'Ada' }).success).toBe(true)
    expect(chat.validatePresence({ name: 'Ada', status: 'gone' })).toMatchObject({
      error: { code: 'invalid_event', message: expect.stringMatching(/^state\.status: /) },
    })
  })

  it('validates direct messages by their own declarations', () => {
    expect(chat.validateDirect('poke', { times: 2 }).success).toBe(true)
    expect(chat.validateDirect('poke', { times: 0 })).toMatchObject({ error: { message: /^data\.times: / } })
    expect(chat.validateDirect('chat', { text: 'hi' }).success).toBe(false)
  })

  it('refuses to declare an event named like a room lifecycle event', () => {
    expect(() => defineProtocol({ events: { presence: z.object({}) } })).toThrow(
      /"presence" is reserved for room lifecycle events/,
    )
  })

  it.each([
    [{ events: { 'chat message': z.object({}) } }, 'event name "chat message" must be 1 to 64 characters'],
    [{ events: { ['x'.repeat(65)]: z.object({}) } }, 'must be 1 to 64 characters of A-Z a-z 0-9 _ - . :'],
    [{ direct: { 'poke!': z.object({}) } }, 'direct event name "poke!" must be 1 to 64'],
    [{ events: { chat: { text: 'string' } } }, 'event "chat" is not a schema'],
    [{ direct: { poke: 'number' } }, 'direct event "poke" is not a schema'],
    [{ presence: { name: z.string() } }, 'presence is not a schema'],
    [{ requests: { make: { input: z.object({}) } } }, 'request "make" output is missing'],
    [{ requests: { make: { input: {}, output: z.null() } } }, 'request "make" input is not a schema'],
  ])('refuses at definition a protocol the server could not run: %j', (definition, says) => {
    expect(() => defineProtocol(definition as never)).toThrow(says)
  })

  it('accepts any Standard Schema, not only zod', () => {
    const standard = {
      '~standard': { version: 1 as const, vendor: 'x', validate: (value: unknown) => ({ value }) },
    }
    expect(defineProtocol({ events: { chat: standard } }).validateEvent('chat', 1)).toEqual({
      success: true,
      data: 1,
    })
  })

  it('lets everything through when nothing is declared', () => {
    const open = defineProtocol()
    expect(open.validateEvent('anything', { deep: [1] })).toEqual({ success: true, data: { deep: [1] } })
    expect(open.validatePresence('free-form')).toEqual({ success: true, data: 'free-form' })
    expect(open.validateDirect('x', undefined).success).toBe(true)
  })

  it('validates only what was declared', () => {
    const presenceOnly = defineProtocol({ presence: z.object({ x: z.number() }) })
    expect(presenceOnly.validateEvent('any', 1).success).toBe(true)
    expect(presenceOnly.validatePresence({ x: 'no' }).success).toBe(false)
  })

  it('does not pollute prototypes when validating hostile payloads', () => {
    const free = defineProtocol({ events: { blob: z.record(z.string(), z.unknown()) } })
    const payload = JSON.parse(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    )
    free.validateEvent('blob', payload)
    chat.validatePresence(payload)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
