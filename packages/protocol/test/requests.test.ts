import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { decodeClientMessage, decodeServerMessage, defineProtocol } from '../src/index'

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ id: z.string() }),
      errors: ['name_taken'],
    },
    rename: { input: z.object({ to: z.string() }), output: z.void(), room: true, idempotent: true },
  },
})

describe('declared requests', () => {
  it('knows each request: per room, idempotent, and its declared codes', () => {
    expect(app.requestInfo('createRoom')).toMatchObject({ room: false, idempotent: false })
    expect([...(app.requestInfo('createRoom')?.errors ?? [])]).toEqual(['name_taken'])
    expect(app.requestInfo('rename')).toMatchObject({ room: true, idempotent: true })
    expect(app.requestInfo('nope')).toBeUndefined()
  })

  it('validates input and output with the request schemas, naming the field at fault', () => {
    expect(app.validateRequestInput('createRoom', { name: 'lobby', x: 1 })).toEqual({
      success: true,
      data: { name: 'lobby' },
    })
    expect(app.validateRequestInput('createRoom', { name: 5 })).toEqual({
      success: false,
      error: { code: 'invalid_event', message: 'input.name: must be a string' },
    })
    expect(app.validateRequestOutput('createRoom', {})).toMatchObject({
      success: false,
      error: { message: 'output.id: is required' },
    })
  })

  it('refuses an undeclared request name, listing the declared ones', () => {
    expect(app.validateRequestInput('deleteAll', {})).toEqual({
      success: false,
      error: {
        code: 'invalid_event',
        message: 'name: "deleteAll" is not a declared request (declared: createRoom, rename)',
      },
    })
  })

  it('lets anything through when the protocol declares no requests', () => {
    const untyped = defineProtocol({})
    expect(untyped.validateRequestInput('anything', 1)).toEqual({ success: true, data: 1 })
    expect(untyped.requestInfo('anything')).toBeUndefined()
  })

  it('refuses error codes roomwire uses itself, so a caller can tell whose refusal it is', () => {
    for (const code of ['timeout', 'internal', 'disconnected', 'closed']) {
      expect(() =>
        defineProtocol({ requests: { a: { input: z.null(), output: z.null(), errors: [code] } } }),
      ).toThrow(`declares error code "${code}", which roomwire itself uses`)
    }
    expect(() =>
      defineProtocol({ requests: { a: { input: z.null(), output: z.null(), errors: ['no spaces'] } } }),
    ).toThrow('must be 1 to 64 characters')
    expect(() => defineProtocol({ requests: { 'bad name': { input: z.null(), output: z.null() } } })).toThrow(
      'request name "bad name"',
    )
  })
})

describe('request and reply frames', () => {
  it('refuses a request without a ref: nobody could match its answer', () => {
    expect(decodeClientMessage('{"type":"request","name":"a","id":"x"}')).toMatchObject({
      success: false,
      error: { code: 'bad_request', message: expect.stringContaining('ref') },
    })
  })

  it('refuses a request id over 64 characters, carrying the ref for the answer', () => {
    const frame = JSON.stringify({ type: 'request', name: 'a', id: 'x'.repeat(65), ref: 3 })
    expect(decodeClientMessage(frame)).toMatchObject({
      success: false,
      error: { code: 'bad_request', ref: 3, message: expect.stringContaining('id') },
    })
  })

  it('decodes a cancel by request id, and refuses one without an id', () => {
    expect(decodeClientMessage('{"type":"cancel","id":"k-1"}')).toEqual({
      success: true,
      data: { type: 'cancel', id: 'k-1' },
    })
    expect(decodeClientMessage('{"type":"cancel","ref":4}')).toMatchObject({
      success: false,
      error: { code: 'bad_request', ref: 4, message: expect.stringContaining('id') },
    })
  })

  it('refuses a reply carrying both output and error', () => {
    const frame = JSON.stringify({ type: 'reply', ref: 1, output: 1, error: { code: 'x', message: 'm' } })
    expect(decodeServerMessage(frame)).toMatchObject({ success: false })
  })

  it('refuses a reply error code outside the name alphabet', () => {
    const frame = JSON.stringify({ type: 'reply', ref: 1, error: { code: 'a b', message: 'm' } })
    expect(decodeServerMessage(frame)).toMatchObject({ success: false })
  })
})
