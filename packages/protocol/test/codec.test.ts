import { describe, expect, it } from 'vitest'
import {
  type ClientMessage,
  decodeClientMessage,
  decodeServerMessage,
  encode,
  type ServerMessage,
} from '../src/index'

const clientMessages: ClientMessage[] = [
  { type: 'join', room: 'general' },
  {
    type: 'join',
    room: 'team/a@b:c.d-e_f',
    presence: { name: 'Ada' },
    since: 41,
    epoch: 'e_1',
    history: 20,
    ref: 1,
  },
  { type: 'leave', room: 'general', ref: 'r-2' },
  { type: 'publish', room: 'general', event: 'chat', data: { text: 'hi' }, echo: true, id: 'm1', ref: 3 },
  { type: 'publish', room: 'general', event: 'chat', data: null },
  { type: 'direct', to: 'c_abc', event: 'poke', data: [1, 2, 3], ref: 4 },
  { type: 'presence', room: 'general', state: { typing: true }, ref: 5 },
  { type: 'ping', t: 1234.5, ref: 6 },
  { type: 'ping' },
  { type: 'history', room: 'general', before: 120, limit: 50, ref: 7 },
  { type: 'history', room: 'general', ref: 'h' },
  { type: 'request', name: 'createRoom', input: { name: 'lobby' }, id: 'k-0', ref: 'q1' },
  { type: 'request', name: 'rename', room: 'general', input: null, id: 'k-1', ref: 7 },
  { type: 'request', name: 'listRooms', id: 'k-2', ref: 8 },
  { type: 'cancel', id: 'k-2' },
  { type: 'cancel', id: 'k-0', ref: 9 },
]

const serverMessages: ServerMessage[] = [
  {
    type: 'welcome',
    id: 'c_1',
    user: 'ada',
    protocol: 1,
    heartbeat: { interval: 30000, timeout: 10000 },
    limits: { maxMessageBytes: 65536, maxRoomsPerConnection: 10 },
  },
  {
    type: 'joined',
    room: 'general',
    seq: 0,
    epoch: 'e_1',
    members: [{ id: 'c_1' }, { id: 'c_2', user: 'bob', presence: { x: 1 } }],
    recovered: true,
    ref: 1,
  },
  { type: 'left', room: 'general', ref: 2 },
  { type: 'member_joined', room: 'general', member: { id: 'c_2' } },
  { type: 'member_left', room: 'general', id: 'c_2' },
  {
    type: 'message',
    room: 'general',
    event: 'chat',
    data: { text: 'hi' },
    from: 'c_1',
    seq: 1,
    ts: 1,
    id: 'm1',
  },
  { type: 'message', room: 'general', event: 'chat', data: 'hi', from: 'c_2', user: 'bob', seq: 2, ts: 2 },
  {
    type: 'history',
    room: 'general',
    ref: 8,
    epoch: 'e_1',
    messages: [
      { type: 'message', room: 'general', event: 'chat', data: 1, from: 'c_1', user: 'ada', seq: 4, ts: 1 },
      { type: 'message', room: 'general', event: 'chat', data: 2, from: 'server', seq: 5, ts: 2, id: 'm5' },
    ],
    more: true,
  },
  { type: 'direct', event: 'poke', data: 1, from: 'server', ts: 2 },
  { type: 'presence', room: 'general', id: 'c_1', state: { typing: false } },
  { type: 'ack', ref: 3, seq: 7 },
  { type: 'error', code: 'not_joined', message: 'room: not joined', ref: 4, room: 'general' },
  { type: 'pong', t: 3, ref: 'p' },
  { type: 'system', message: 'restarting', code: 'shutdown' },
  { type: 'reset', room: 'general', epoch: 'e_2', seq: 0 },
  { type: 'reply', ref: 'q1', output: { id: 'r_9' } },
  { type: 'reply', ref: 8 },
  { type: 'reply', ref: 'q2', error: { code: 'name_taken', message: 'That name is taken' } },
]

describe('round trips', () => {
  it.each(clientMessages.map((m) => [m.type, m] as const))(
    'client %s encodes and decodes unchanged',
    (_, m) => {
      expect(decodeClientMessage(encode(m))).toEqual({ success: true, data: m })
    },
  )

  it.each(serverMessages.map((m) => [m.type, m] as const))(
    'server %s encodes and decodes unchanged',
    (_, m) => {
      expect(decodeServerMessage(encode(m))).toEqual({ success: true, data: m })
    },
  )

  it('decodes UTF-8 bytes as well as strings', () => {
    const message: ClientMessage = { type: 'publish', room: 'r', event: 'chat', data: { text: 'héllo ✓ 🎉' } }
    const bytes = new TextEncoder().encode(encode(message))
    expect(decodeClientMessage(bytes)).toEqual({ success: true, data: message })
    expect(decodeClientMessage(Buffer.from(bytes))).toMatchObject({ success: true })
    expect(decodeClientMessage(bytes.buffer)).toMatchObject({ success: true })
  })
})

function refused(raw: string | Uint8Array, maxBytes?: number) {
  const result = decodeClientMessage(raw, maxBytes === undefined ? undefined : { maxBytes })
  if (result.success) throw new Error(`expected ${String(raw)} to be refused`)
  return result.error
}

describe('malformed client messages', () => {
  it.each([
    ['{"type":"join"', /^message is not valid JSON/],
    ['', /^message is not valid JSON/],
    ['[]', /^message must be a JSON object with a string "type", not an array$/],
    ['42', /not a number$/],
    ['null', /not null$/],
    ['"join"', /not a string$/],
    ['{}', /^type: is required$/],
    [
      '{"type":"nope"}',
      /^type: must be one of join, leave, publish, direct, presence, ping, history, members_page, request, cancel \(got "nope"\)$/,
    ],
    ['{"type":7}', /^type: must be one of/],
  ])('%s is a bad_request', (raw, message) => {
    const error = refused(raw)
    expect(error.code).toBe('bad_request')
    expect(error.message).toMatch(message)
  })

  it.each([
    [{ type: 'join' }, 'room: is required'],
    [{ type: 'join', room: 'a'.repeat(129) }, 'room: must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @'],
    [{ type: 'join', room: 'a b' }, 'room: must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @'],
    [{ type: 'join', room: '' }, 'room: must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @'],
    [{ type: 'join', room: 7 }, 'room: must be a string'],
    [{ type: 'join', room: 'r', since: -1, epoch: 'e' }, 'since: must be a non-negative safe integer'],
    [{ type: 'join', room: 'r', since: 1.5, epoch: 'e' }, 'since: must be a non-negative safe integer'],
    [{ type: 'join', room: 'r', since: 3 }, 'since: since and epoch must be given together'],
    [{ type: 'join', room: 'r', epoch: 'e' }, 'since: since and epoch must be given together'],
    [{ type: 'join', room: 'r', history: 'all' }, 'history: must be a non-negative safe integer'],
    [{ type: 'publish', room: 'r', event: 'chat' }, 'data: is required'],
    [
      { type: 'publish', room: 'r', event: 'a b', data: 1 },
      'event: must be 1 to 64 characters of A-Z a-z 0-9 _ - . :',
    ],
    [{ type: 'publish', room: 'r', event: 'e'.repeat(65), data: 1 }, 'event: must be 1 to 64 characters'],
    [{ type: 'publish', room: 'r', event: 'chat', data: 1, echo: 'yes' }, 'echo: must be a boolean'],
    [
      { type: 'publish', room: 'r', event: 'chat', data: 1, id: '' },
      'id: must be a message id of 1 to 64 characters',
    ],
    // Stores keep ids as UTF-8 text: '\ud800' and '\udfff' would both become U+FFFD there and collide.
    ...['\ud800', 'a\udfffb', '\udc00\ud800', 'id\u0000'].map((id): [object, string] => [
      { type: 'publish', room: 'r', event: 'chat', data: 1, id },
      'id: must hold no lone surrogate and no U+0000 (it is stored as UTF-8 text)',
    ]),
    [{ type: 'direct', event: 'x', data: 1 }, 'to: is required'],
    [{ type: 'direct', to: 'x'.repeat(65), event: 'x', data: 1 }, 'to: must be a connection id of 1 to 64'],
    [{ type: 'presence', room: 'r' }, 'state: is required'],
    [{ type: 'ping', t: 'now' }, 't: must be a number'],
    [{ type: 'history', room: 'r' }, 'ref: must be a string of 1 to 64 characters or a safe integer'],
    [{ type: 'history', room: 'r', before: 0, ref: 1 }, 'before: must be a positive safe integer'],
    [{ type: 'history', room: 'r', limit: 2.5, ref: 1 }, 'limit: must be a positive safe integer'],
  ])('%j names the field at fault', (message, expected) => {
    const error = refused(JSON.stringify(message))
    expect(error.code).toBe('bad_request')
    expect(error.message.startsWith(expected)).toBe(true)
  })

  it('refuses a number too large for JSON to represent exactly', () => {
    expect(refused('{"type":"join","room":"r","since":1e400,"epoch":"e"}').message).toBe(
      'since: must be a non-negative safe integer',
    )
  })

  it('carries a well-formed ref and room on the error so the reply can be matched', () => {
    expect(refused('{"type":"join","room":"r","since":-1,"epoch":"e","ref":9}')).toMatchObject({
      ref: 9,
      room: 'r',
    })
    expect(refused('{"type":"publish","room":"r","event":"x","ref":"abc"}')).toMatchObject({ ref: 'abc' })
  })

  it('makes a malformed ref a bad_request whose error carries no ref', () => {
    for (const ref of ['', 'r'.repeat(65), 1.5, true, { a: 1 }, 2 ** 60]) {
      const error = refused(JSON.stringify({ type: 'ping', ref }))
      expect(error.message).toMatch(/^ref: must be a string of 1 to 64 characters or a safe integer/)
      expect(error).not.toHaveProperty('ref')
    }
  })

  it('refuses payloads that nest deeper than 32 levels, whatever the size', () => {
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`
    const error = refused(`{"type":"publish","room":"r","event":"x","data":${deep}}`)
    expect(error.message).toBe('data: must not nest more than 32 levels deep')
    const ok = `${'['.repeat(32)}${']'.repeat(32)}`
    expect(decodeClientMessage(`{"type":"publish","room":"r","event":"x","data":${ok}}`).success).toBe(true)
    expect(refused(`{"type":"presence","room":"r","state":{"a":${deep}}}`).message).toMatch(
      /^state: must not nest/,
    )
  })

  it('survives a frame that is nothing but deep nesting', () => {
    expect(refused('['.repeat(60_000)).code).toBe('bad_request')
    expect(refused(`${'['.repeat(60_000)}${']'.repeat(60_000)}`).message).toBe(
      'message: must not nest more than 32 levels deep',
    )
  })

  // The v0.1 crash: `type` deep enough made the error's JSON.stringify of it overflow the stack.
  it.each(['type', 'room', 'event', 'ref', 'to', 'since', 'epoch', 'id', 'echo', 't', 'history', 'x'])(
    'refuses deep nesting in %s before parsing, naming the field',
    (field) => {
      const deep = `${'['.repeat(4_110)}${']'.repeat(4_110)}`
      const error = refused(`{"type":"publish","room":"r","event":"e","data":1,"${field}":${deep}}`)
      expect(error).toEqual({
        code: 'bad_request',
        message: `${field}: must not nest more than 32 levels deep`,
      })
    },
  )

  it('counts only brackets outside strings, escaped quotes included', () => {
    const text = `"${'['.repeat(100)}\\"${'{'.repeat(100)}"`
    expect(decodeClientMessage(`{"type":"publish","room":"r","event":"e","data":${text}}`).success).toBe(true)
  })

  it('honours a lower maxDepth', () => {
    const data = `${'['.repeat(5)}${']'.repeat(5)}`
    const frame = `{"type":"publish","room":"r","event":"e","data":${data}}`
    expect(decodeClientMessage(frame, { maxDepth: 5 }).success).toBe(true)
    expect(decodeClientMessage(frame, { maxDepth: 4 })).toEqual({
      success: false,
      error: { code: 'bad_request', message: 'data: must not nest more than 4 levels deep' },
    })
  })

  it('quotes at most a short excerpt of what it refuses', () => {
    const long = 'x'.repeat(60_000)
    expect(refused(JSON.stringify({ type: long })).message).toBe(
      `type: must be one of join, leave, publish, direct, presence, ping, history, members_page, request, cancel (got "${'x'.repeat(32)}…")`,
    )
    expect(refused(JSON.stringify({ type: { a: [1] } })).message).toMatch(/\(got an object\)$/)
    // Escapes grow a quote up to six times (a NUL is \u0000): the quote is cut again once escaped.
    const nuls = refused(JSON.stringify({ type: '\u0000'.repeat(129) })).message
    expect(nuls).toMatch(/\(got "(\\u0000)+…"\)$/)
    expect(nuls.length).toBeLessThanOrEqual(300)
    for (const raw of [
      `{"type":"join","room":"${long}"}`,
      `{"type":${long.replaceAll('x', '1')}}`,
      `{${long}`,
    ]) {
      expect(refused(raw).message.length).toBeLessThan(320)
    }
  })

  it('refuses frames over maxBytes with too_large, counting UTF-8 bytes', () => {
    const frame = JSON.stringify({ type: 'publish', room: 'r', event: 'x', data: 'é'.repeat(40) })
    expect(frame.length).toBeLessThan(100)
    expect(refused(frame, 100)).toEqual({
      code: 'too_large',
      message: 'message is larger than the limit of 100 bytes',
    })
    expect(decodeClientMessage(frame, { maxBytes: 200 }).success).toBe(true)
    expect(refused(new Uint8Array(101), 100).code).toBe('too_large')
  })

  it('keeps __proto__ and constructor keys as data without touching any prototype', () => {
    const raw =
      '{"type":"publish","room":"r","event":"x","__proto__":{"polluted":1},' +
      '"data":{"__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}}}}'
    const result = decodeClientMessage(raw)
    expect(result.success).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    if (result.success) {
      expect(Object.keys(result.data)).not.toContain('__proto__')
      expect(result.data.type === 'publish' && Object.keys(result.data.data as object)).toEqual([
        '__proto__',
        'constructor',
      ])
    }
  })

  it('drops unknown fields', () => {
    const result = decodeClientMessage('{"type":"leave","room":"r","extra":1}')
    expect(result).toEqual({ success: true, data: { type: 'leave', room: 'r' } })
  })
})

describe('server messages', () => {
  it('reads an unknown error code from a newer server as internal', () => {
    const result = decodeServerMessage('{"type":"error","code":"quota_exceeded","message":"m"}')
    expect(result).toMatchObject({ success: true, data: { code: 'internal' } })
  })

  it('keeps limits a newer server adds', () => {
    const raw = encode({
      ...serverMessages[0],
      limits: { maxMessageBytes: 1, maxRoomsPerConnection: 1, future: 2 },
    } as ServerMessage)
    expect(decodeServerMessage(raw)).toMatchObject({ success: true, data: { limits: { future: 2 } } })
  })

  it('refuses a message with seq 0', () => {
    const raw = '{"type":"message","room":"r","event":"e","data":1,"from":"c","seq":0,"ts":1}'
    expect(decodeServerMessage(raw)).toMatchObject({ success: false, error: { code: 'bad_request' } })
  })
})
