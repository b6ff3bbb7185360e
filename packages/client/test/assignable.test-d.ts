import { defineProtocol } from '@roomwire/protocol'
import { expectTypeOf, test } from 'vitest'
import * as z from 'zod'
import { type Client, createClient, type Room } from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }) },
  presence: z.object({ name: z.string() }),
})

test('a typed client and room are still a plain Client and Room, for helpers that take any', () => {
  const typed = createClient({ url: 'ws://localhost/ws', protocol: chat, autoConnect: false })
  const plain = createClient({ url: 'ws://localhost/ws', autoConnect: false })
  expectTypeOf(typed).toExtend<Client>()
  expectTypeOf(typed.join('r')).toExtend<Room>()
  expectTypeOf(plain).toExtend<Client>()
  expectTypeOf(plain.join('r')).toExtend<Room>()
  // Held as a plain Client, it takes any event, as an untyped client does.
  const held: Client = plain
  void held.join('r').publish('anything', { n: 1 })
  held.join('r').on('member_joined', (member) => expectTypeOf(member.id).toEqualTypeOf<string>())
  // The typed one keeps its own types.
  expectTypeOf(typed.join('r').publish).parameter(0).toEqualTypeOf<'chat'>()
})
