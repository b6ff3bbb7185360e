import { type CancelMessage, type ClientMessageType, defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import { createRoomServer, type RequestContext, RequestError, type RoomServerErrorCode } from '../src/index'

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string() }),
      output: z.object({ id: z.string(), at: z.date().transform((d) => d.toISOString()) }),
      errors: ['name_taken'],
    },
    rename: { input: z.object({ to: z.string() }), output: z.null(), room: true },
  },
})
type App = typeof app

describe('handlers typed by the protocol', () => {
  it('gives each handler its parsed input and checks its output', () => {
    createRoomServer({
      noServer: true,
      protocol: app,
      handlers: {
        createRoom: async (input, ctx) => {
          expectTypeOf(input).toEqualTypeOf<{ name: string }>()
          expectTypeOf(ctx.room).toEqualTypeOf<undefined>()
          if (input.name === '') return ctx.refuse('name_taken', 'taken')
          if (input.name === 'x') throw new RequestError('name_taken', 'That name is taken')
          return { id: 'r', at: new Date() }
        },
        rename: (_input, ctx) => {
          expectTypeOf(ctx.room).toEqualTypeOf<string>()
          expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>()
          return null
        },
      },
    })
  })

  it('refuses a missing handler, an unknown one, a wrong output and an undeclared refusal', () => {
    createRoomServer({
      noServer: true,
      protocol: app,
      // @ts-expect-error: rename has no handler
      handlers: { createRoom: () => ({ id: 'r', at: new Date() }) },
    })
    createRoomServer({
      noServer: true,
      protocol: app,
      handlers: {
        createRoom: () => ({ id: 'r', at: new Date() }),
        rename: () => null,
        // @ts-expect-error: not a declared request
        deleteAll: () => null,
      },
    })
    createRoomServer({
      noServer: true,
      protocol: app,
      handlers: {
        // @ts-expect-error: the output must match its schema's input
        createRoom: () => ({ id: 1 }),
        rename: () => null,
      },
    })
    createRoomServer({
      noServer: true,
      protocol: app,
      handlers: {
        // @ts-expect-error: `gone` is not a declared code of createRoom
        createRoom: (_input, ctx) => ctx.refuse('gone', 'no'),
        rename: () => null,
      },
    })
  })

  it('types the context per request', () => {
    expectTypeOf<RequestContext<App, 'rename'>['room']>().toEqualTypeOf<string>()
    expectTypeOf<RequestContext<App, 'createRoom'>['room']>().toEqualTypeOf<undefined>()
  })

  it('names the reason of a cancelled handler among the server error codes, and the cancel frame', () => {
    expectTypeOf<'cancelled'>().toExtend<RoomServerErrorCode>()
    expectTypeOf<'cancel'>().toExtend<ClientMessageType>()
    expectTypeOf<CancelMessage>().toEqualTypeOf<{
      type: 'cancel'
      id: string
      ref?: string | number | undefined
    }>()
  })
})
