import { createMemoryAdapter } from '@roomwire/server'
import { describe, expect, it } from 'vitest'
import { createTestServer } from '../src/index'
import { chat } from './chat'

describe('server.cut', () => {
  it('drops the TCP connection without a close frame: the client sees 1006 and comes back', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    const firstId = alice.id
    await server.cut(alice)
    expect(alice.getSnapshot()).toMatchObject({ status: 'reconnecting', closeCode: 1006 })
    await expect(bob.room('general').next('member_left')).resolves.toMatchObject({ id: firstId })
    await alice.waitFor('open')
    expect(alice.id).not.toBe(firstId)
    await expect(bob.room('general').next('member_joined')).resolves.toMatchObject({ user: 'alice' })
    await alice.room('general').waitFor('joined')
    await alice.room('general').handle.publish('chat', { text: 'back' })
    await expect(bob.room('general').next('chat')).resolves.toMatchObject({ data: { text: 'back' } })
  })

  it("refuses to cut another server's client", async () => {
    await using one = await createTestServer({ protocol: chat })
    await using two = await createTestServer({ protocol: chat })
    await using alice = await one.connect({ user: 'alice' })
    await expect(two.cut(alice)).rejects.toMatchObject({ code: 'misuse' })
    expect(alice.status).toBe('open')
  })

  it('cuts only the client it is given', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await server.cut(alice)
    expect(bob.status).toBe('open')
  })

  it('delivers a publish made across a cut once', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    const published = alice.room('general').handle.publish('chat', { text: 'in flight' })
    await server.cut(alice)
    await expect(published).resolves.toEqual({ seq: 1 })
    await expect(bob.room('general').next('chat')).resolves.toMatchObject({ seq: 1 })
    await bob.room('general').nothing('chat')
  })
})

describe('server.restart', () => {
  it('keeps every room with keepState: clients resume in the same epoch without a resync', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    await alice.room('general').handle.publish('chat', { text: 'before' })
    await bob.room('general').next('chat')
    const port = server.port
    const epoch = bob.room('general').handle.getSnapshot().epoch
    await server.restart({ keepState: true })
    expect(server.port).toBe(port)
    await bob.waitFor('open')
    await alice.waitFor('open')
    await Promise.all([alice.room('general').waitFor('joined'), bob.room('general').waitFor('joined')])
    await alice.room('general').handle.publish('chat', { text: 'after' })
    await expect(bob.room('general').next('chat')).resolves.toMatchObject({ seq: 2, epoch })
    expect(bob.room('general').received('resync')).toEqual([])
  })

  it('loses every room without keepState: clients get a resync for the new epoch', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using bob = await server.connect({ user: 'bob' })
    const room = bob.join('general')
    await room.ready
    await room.publish('chat', { text: 'before' })
    await server.restart()
    await expect(bob.room('general').next('resync')).resolves.toMatchObject({ reason: 'epoch', seq: 0 })
    await expect(room.publish('chat', { text: 'after' })).resolves.toEqual({ seq: 1 })
  })

  it('asks for an adapter factory when restarting with an adapter object, and keeps serving', async () => {
    await using server = await createTestServer({ protocol: chat, adapter: createMemoryAdapter() })
    await expect(server.restart()).rejects.toThrow('restart() needs adapter as a function')
    await using alice = await server.connect({ user: 'alice' })
    await expect(alice.join('general').ready).resolves.toBeUndefined()
  })

  it('serves clients of the new server through the same url', async () => {
    await using server = await createTestServer({ protocol: chat })
    const before = server.rooms
    await server.restart()
    expect(server.rooms).not.toBe(before)
    await using carol = await server.connect({ user: 'carol' })
    expect((await server.rooms.roomInfo('general')) ?? null).toBeNull()
    expect(server.rooms.connections().map((c) => c.user)).toEqual([carol.user])
  })
})

describe('raw frames', () => {
  it('sends a frame of the test and waits for the answer by type', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await expect(alice.raw.next('welcome')).resolves.toMatchObject({ user: 'alice', id: alice.id })
    alice.raw.send({ type: 'publish', room: 'nowhere', event: 'chat', data: { text: 'hi' }, ref: 7 })
    await expect(alice.raw.next('error')).resolves.toMatchObject({ code: 'not_joined', ref: 7 })
    alice.raw.send('not json')
    await expect(alice.raw.next('error')).resolves.toMatchObject({ code: 'bad_request' })
    expect(alice.status).toBe('open')
  })

  it('records the frames of every connection the client made', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await server.cut(alice)
    await alice.waitFor('open')
    expect(alice.raw.received('welcome')).toHaveLength(2)
  })
})
