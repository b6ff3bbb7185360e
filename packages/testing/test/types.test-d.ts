import type { Client, Member, ResyncInfo, Room } from '@roomwire/client'
import type { RoomServer } from '@roomwire/server'
import { describe, expectTypeOf, it } from 'vitest'
import { createTestServer, type TestClient } from '../src/index'
import { type Chat, chat } from './chat'

describe('types', () => {
  it('types test clients and their rooms from the protocol', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    expectTypeOf(server.rooms).toEqualTypeOf<RoomServer<Chat>>()
    // @ts-expect-error: no such event in the protocol
    void server.rooms.broadcast('general', 'chta', { text: 'hi' })
    expectTypeOf(alice).toExtend<Client<Chat>>()
    expectTypeOf(alice).toEqualTypeOf<TestClient<Chat>>()
    expectTypeOf(alice.join('general')).toEqualTypeOf<Room<Chat>>()
    const room = alice.room('general')
    expectTypeOf(room.handle).toEqualTypeOf<Room<Chat>>()

    const message = await room.next('chat')
    expectTypeOf(message.event).toEqualTypeOf<'chat'>()
    expectTypeOf(message.data).toEqualTypeOf<{ text: string }>()
    expectTypeOf(message.seq).toEqualTypeOf<number>()
    expectTypeOf(await room.next('member_joined')).toEqualTypeOf<Member<Chat>>()
    expectTypeOf(await room.next('resync')).toEqualTypeOf<ResyncInfo>()
    expectTypeOf(room.received('typing')[0]!.data).toEqualTypeOf<Record<string, never>>()
    await room.next('chat', { where: (m) => m.data.text === 'hi' })
    await room.nothing('presence', 50, (m) => m.presence?.name === 'Bob')

    // @ts-expect-error: no such event in the protocol
    await room.next('chta')
    // @ts-expect-error: a chat message has no `name`
    await room.next('chat', { where: (m) => m.data.name === 'x' })
    // @ts-expect-error: presence is { name }
    alice.join('general', { presence: { nick: 'A' } })
  })

  it('types raw frames by their type', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    const welcome = await alice.raw.next('welcome')
    expectTypeOf(welcome.type).toEqualTypeOf<'welcome'>()
    expectTypeOf(welcome.id).toEqualTypeOf<string>()
    const error = await alice.raw.next('error', { where: (e) => e.code === 'not_joined' })
    expectTypeOf(error.type).toEqualTypeOf<'error'>()
    // @ts-expect-error: no such frame type
    await alice.raw.next('welcom')
  })
})
