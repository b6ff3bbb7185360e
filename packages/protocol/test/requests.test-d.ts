import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import {
  type ClientRequestName,
  defineProtocol,
  type HandlerInput,
  type HandlerOutput,
  type RequestErrorCode,
  type RequestInput,
  type RequestName,
  type RequestOutput,
  type RoomRequestName,
  type UntypedProtocol,
} from '../src/index'

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string() }),
      output: z.object({ id: z.string(), at: z.string().transform((s) => new Date(s)) }),
      errors: ['name_taken', 'too_many'],
    },
    listRooms: { input: z.void(), output: z.array(z.string()) },
    rename: { input: z.object({ to: z.string() }), output: z.null(), room: true, idempotent: true },
  },
})
type App = typeof app

describe('request types', () => {
  it('splits request names into client and room requests', () => {
    expectTypeOf<RequestName<App>>().toEqualTypeOf<'createRoom' | 'listRooms' | 'rename'>()
    expectTypeOf<ClientRequestName<App>>().toEqualTypeOf<'createRoom' | 'listRooms'>()
    expectTypeOf<RoomRequestName<App>>().toEqualTypeOf<'rename'>()
  })

  it('types what the caller sends and gets apart from what the handler gets and returns', () => {
    expectTypeOf<RequestInput<App, 'createRoom'>>().toEqualTypeOf<{ name: string }>()
    expectTypeOf<RequestOutput<App, 'createRoom'>>().toEqualTypeOf<{ id: string; at: Date }>()
    expectTypeOf<HandlerInput<App, 'createRoom'>>().toEqualTypeOf<{ name: string }>()
    expectTypeOf<HandlerOutput<App, 'createRoom'>>().toEqualTypeOf<{ id: string; at: string }>()
  })

  it('keeps the declared error codes as a union, and never for a request without them', () => {
    expectTypeOf<RequestErrorCode<App, 'createRoom'>>().toEqualTypeOf<'name_taken' | 'too_many'>()
    expectTypeOf<RequestErrorCode<App, 'listRooms'>>().toEqualTypeOf<never>()
  })

  it('leaves an untyped protocol open: any name, unknown payloads', () => {
    expectTypeOf<RequestName<UntypedProtocol>>().toEqualTypeOf<string>()
    expectTypeOf<RequestInput<UntypedProtocol, 'x'>>().toEqualTypeOf<unknown>()
    expectTypeOf<RequestOutput<UntypedProtocol, 'x'>>().toEqualTypeOf<unknown>()
  })

  it('refuses a request definition without an output schema', () => {
    // @ts-expect-error output is required
    defineProtocol({ requests: { a: { input: z.null() } } })
  })
})
