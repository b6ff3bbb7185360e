import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import { createClient, RoomwireError } from '../src/index'

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string() }),
      output: z.object({ id: z.string(), at: z.string().transform((s) => new Date(s)) }),
      errors: ['name_taken'],
    },
    listRooms: { input: z.void(), output: z.array(z.string()) },
    rename: { input: z.object({ to: z.string() }), output: z.null(), room: true },
  },
})

describe('requests typed by the protocol', () => {
  const client = createClient({ url: 'ws://x', protocol: app, autoConnect: false })
  const room = client.join('lobby')

  it('resolves to the output type its schema produces', () => {
    expectTypeOf(client.request('createRoom', { name: 'a' })).toEqualTypeOf<
      Promise<{ id: string; at: Date }>
    >()
    expectTypeOf(client.request('listRooms')).toEqualTypeOf<Promise<string[]>>()
    expectTypeOf(room.request('rename', { to: 'b' })).toEqualTypeOf<Promise<null>>()
  })

  it('refuses undeclared names, wrong inputs and a missing input', () => {
    // @ts-expect-error: not a declared request
    void client.request('deleteAll', {})
    // @ts-expect-error: wrong input
    void client.request('createRoom', { name: 1 })
    // @ts-expect-error: input required
    void client.request('createRoom')
    // @ts-expect-error: wrong option
    void client.request('listRooms', undefined, { timeout: 5 })
  })

  it('keeps room requests on the room and the others on the client', () => {
    // @ts-expect-error: a room request needs a room
    void client.request('rename', { to: 'b' })
    // @ts-expect-error: not a room request
    void room.request('createRoom', { name: 'a' })
  })

  it('lets callers switch on a declared code', () => {
    void client.request('createRoom', { name: 'a' }).catch((e: unknown) => {
      if (e instanceof RoomwireError && e.code === 'name_taken') return 'taken'
      return 'other'
    })
  })

  it('takes any name and input without a protocol', () => {
    const untyped = createClient({ url: 'ws://x', autoConnect: false })
    expectTypeOf(untyped.request('anything', { a: 1 })).toEqualTypeOf<Promise<unknown>>()
  })
})
