import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { type Client, createClient, type RoomMessage, type WebSocketConstructor } from '../src/index'
import { Members } from '../src/members'
import { deepType, deepValue, type HostileServer, startHostileServer } from './support/hostile-server'

const uncaught: unknown[] = []
const onUncaught = (error: unknown) => uncaught.push(error)
let server: HostileServer | null = null
let client: Client | null = null

beforeEach(() => {
  uncaught.length = 0
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
})
afterEach(async () => {
  client?.close()
  client = null
  await server?.close()
  server = null
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUncaught)
})

const message = (seq: number, data: unknown = seq) => ({
  type: 'message',
  room: 'r',
  event: 'e',
  data,
  from: 'c9',
  seq,
  ts: seq,
})

/** A raw `message` frame whose `data` is `dataText` as written (JSON.stringify could not build it). */
const rawMessage = (seq: number, dataText: string) =>
  `{"type":"message","room":"r","event":"e","data":${dataText},"from":"c9","seq":${seq},"ts":1}`

/** Node's two WebSocket clients: `ws` (through isomorphic-ws) and undici's global one. */
const implementations: Array<[string, WebSocketConstructor | undefined]> = [
  ['ws', WebSocket as unknown as WebSocketConstructor],
  ['the global WebSocket', undefined],
]

function connect(url: string, WebSocketImpl: WebSocketConstructor | undefined, errors: string[]) {
  client = createClient({
    url,
    ...(WebSocketImpl === undefined ? {} : { WebSocket: WebSocketImpl }),
    reconnect: { initialMs: 20, maxMs: 50 },
    logger: { error: () => {} },
  })
  client.on('error', (e) => errors.push(e.code))
  return client
}

describe.each(implementations)('a hostile server, with %s', (_name, WebSocketImpl) => {
  it('reports the 4,110-level type frame before welcome as bad_frame and joins after it', async () => {
    server = await startHostileServer((c) => {
      c.send(deepType(4_110))
      c.welcome()
      void c.next('join').then((join) => {
        c.send({ type: 'joined', room: 'r', seq: 0, epoch: 'e1', members: [], ref: join.ref })
        c.send(message(1))
      })
    })
    const errors: string[] = []
    const room = connect(server.url, WebSocketImpl, errors).join('r')
    const seqs: number[] = []
    room.onMessage((m) => seqs.push(m.seq))
    await vi.waitFor(() => expect(seqs).toEqual([1]))
    expect(errors).toEqual(['bad_frame'])
    expect(uncaught).toEqual([])
  })

  it('drops deep, garbage and binary frames after welcome and delivers the honest ones once, in order', async () => {
    server = await startHostileServer((c) => {
      c.welcome()
      void c.next('join').then((join) => {
        c.send(deepType(4_110))
        c.send({ type: 'joined', room: 'r', seq: 0, epoch: 'e1', members: [], ref: join.ref })
        c.send(message(1))
        c.send(rawMessage(2, deepValue(10_000)))
        c.send(`{"type":"member_joined","room":"r","member":{"id":"x","presence":${deepValue(5_000)}}}`)
        c.send(`{"type":"presence","room":"r","id":"x","state":${deepValue(40)}}`)
        c.send('not json')
        c.send('[]')
        c.send('42')
        c.send('{"type":"nope"}')
        c.send('{"type":"message","room":"r"}')
        c.send(Buffer.from(JSON.stringify(message(2))))
        c.send(deepType(4_110))
        c.send(message(2, { __proto__: { polluted: true } }))
        c.send(rawMessage(3, `{"__proto__":{"polluted":true},"ok":${deepValue(30)}}`))
      })
    })
    const errors: string[] = []
    const room = connect(server.url, WebSocketImpl, errors).join('r')
    const seen: RoomMessage[] = []
    room.onMessage((m) => seen.push(m))
    await vi.waitFor(() => expect(seen).toHaveLength(3))
    expect(seen.map((m) => m.seq)).toEqual([1, 2, 3])
    expect(errors).toEqual(Array.from({ length: 11 }, () => 'bad_frame'))
    expect(room.members).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // What reached the app is safe to serialize again (v0.1 passed the deep value on, and the app's own
    // JSON.stringify overflowed the stack).
    expect(() => JSON.stringify(seen)).not.toThrow()
    expect(uncaught).toEqual([])
  })

  it('reports a frame that throws while handled and delivers the frames after it', async () => {
    const add = Members.prototype.add
    const spy = vi.spyOn(Members.prototype, 'add').mockImplementation(function (this: Members, member) {
      if (member.id === 'boom') throw new Error('a bug in handling')
      return add.call(this, member)
    })
    server = await startHostileServer((c) => {
      c.welcome()
      void c.next('join').then((join) => {
        c.send({ type: 'joined', room: 'r', seq: 0, epoch: 'e1', members: [], ref: join.ref })
        c.send(message(1))
        c.send({ type: 'member_joined', room: 'r', member: { id: 'boom' } })
        c.send({ type: 'member_joined', room: 'r', member: { id: 'fine' } })
        c.send(message(2))
      })
    })
    const errors: string[] = []
    const room = connect(server.url, WebSocketImpl, errors).join('r')
    const seqs: number[] = []
    room.onMessage((m) => seqs.push(m.seq))
    await vi.waitFor(() => expect(seqs).toEqual([1, 2]))
    expect(errors).toEqual(['bad_frame'])
    expect(room.members).toEqual([{ id: 'fine' }])
    expect(uncaught).toEqual([])
    spy.mockRestore()
  })

  it('keeps going when the app’s handlers, listeners and logger all throw', async () => {
    server = await startHostileServer((c) => {
      c.welcome()
      void c.next('join').then((join) => {
        c.send({ type: 'joined', room: 'r', seq: 0, epoch: 'e1', members: [], ref: join.ref })
        c.send(message(1))
        c.send(rawMessage(2, deepValue(100)))
        c.send(message(2))
      })
    })
    client = createClient({
      url: server.url,
      ...(WebSocketImpl === undefined ? {} : { WebSocket: WebSocketImpl }),
      logger: {
        error: () => {
          throw new Error('the logger broke')
        },
      },
    })
    const room = client.join('r')
    const seqs: number[] = []
    room.on('e', () => {
      throw new Error('handler bug')
    })
    room.subscribe(() => {
      throw new Error('listener bug')
    })
    room.onMessage((m) => seqs.push(m.seq))
    await vi.waitFor(() => expect(seqs).toEqual([1, 2]))
    expect(uncaught).toEqual([])
  })
})
