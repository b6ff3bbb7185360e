import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createTestServer, RoomwireTestError } from '../src/index'
import { chat } from './chat'

describe('createTestServer', () => {
  it('delivers a publish to the other member, typed from the protocol', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    await alice.room('general').handle.publish('chat', { text: 'hi' })
    const message = await bob.room('general').next('chat')
    const text: string = message.data.text
    expect(text).toBe('hi')
    expect(message).toMatchObject({ event: 'chat', own: false, seq: 1, from: alice.id })
  })

  it('gives next an event that arrived before it was called', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    const room = alice.join('general')
    await room.ready
    await room.publish('chat', { text: 'one' })
    await room.publish('chat', { text: 'two' })
    await expect(alice.room('general').next('chat')).resolves.toMatchObject({
      data: { text: 'one' },
      own: true,
    })
    await expect(alice.room('general').next('chat')).resolves.toMatchObject({ data: { text: 'two' } })
    expect(
      alice
        .room('general')
        .received('chat')
        .map((m) => m.data.text),
    ).toEqual(['one', 'two'])
  })

  it('passes over events a condition refuses and keeps them for a later next', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    const room = alice.join('general')
    await room.ready
    await room.publish('chat', { text: 'one' })
    await room.publish('chat', { text: 'two' })
    const test = alice.room('general')
    await expect(test.next('chat', { where: (m) => m.data.text === 'two' })).resolves.toMatchObject({
      seq: 2,
    })
    await expect(test.next('chat')).resolves.toMatchObject({ seq: 1 })
  })

  it('names what next waited for and what arrived instead when it times out', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    const room = alice.join('general')
    await room.ready
    await room.publish('typing', {})
    const error = await alice
      .room('general')
      .next('chat', { timeoutMs: 50 })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RoomwireTestError)
    expect(error).toMatchObject({ code: 'timeout' })
    expect((error as Error).message).toMatch(
      /^alice in room "general": no "chat" within 50 ms; arrived instead: typing \{/,
    )
  })

  it('says nothing arrived when nothing did', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await alice.join('general').ready
    await expect(alice.room('general').next('chat', { timeoutMs: 30 })).rejects.toThrow(
      'no "chat" within 30 ms; nothing arrived',
    )
  })

  it('nothing resolves when no such event comes, and rejects naming the one that does', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    await bob.room('general').nothing('chat', 30)
    const absent = expect(bob.room('general').nothing('chat', 2000)).rejects.toMatchObject({
      code: 'unexpected',
    })
    await alice.room('general').handle.publish('chat', { text: 'surprise' })
    await absent
    await expect(bob.room('general').nothing('chat')).rejects.toThrow(
      'bob in room "general": expected no "chat" for 100 ms, but got {event:"chat"',
    )
  })

  it('records presence and members from the first join', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await alice.join('general', { presence: { name: 'Alice' } }).ready
    await bob.join('general', { presence: { name: 'Bob' } }).ready
    await expect(alice.room('general').next('member_joined')).resolves.toMatchObject({
      user: 'bob',
      presence: { name: 'Bob' },
    })
    await bob.room('general').handle.setPresence({ name: 'Bobby' })
    await expect(alice.room('general').next('presence')).resolves.toMatchObject({
      presence: { name: 'Bobby' },
    })
    expect(
      alice
        .room('general')
        .members()
        .map((m) => m.user),
    ).toEqual(expect.arrayContaining(['alice', 'bob']))
  })

  it('counts the members of a big room, where members() holds only self (issue 20)', async () => {
    await using server = await createTestServer({ protocol: chat, memberListMax: 1 })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await alice.join('general').ready
    await bob.join('general').ready
    await expect.poll(() => alice.room('general').memberCount()).toBe(2)
    expect(bob.room('general').memberCount()).toBe(2)
    expect(
      alice
        .room('general')
        .members()
        .map((m) => m.user),
    ).toEqual(['alice'])
  })

  it('refuses room() for a room the client never joined', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    expect(() => alice.room('general')).toThrow('alice never joined room "general": join it first')
  })
})

describe('authentication without tokens', () => {
  it('hands the user and data to the app hooks', async () => {
    const seen: unknown[] = []
    await using server = await createTestServer({
      protocol: chat,
      authorize: ({ user, connection, action }) => {
        seen.push({ action, user, data: connection.data })
        return action !== 'join' || (connection.data as { role?: string }).role === 'admin'
      },
    })
    await using root = await server.connect({ user: 'root', data: { role: 'admin' } })
    await using guest = await server.connect({ user: 'guest', data: { role: 'guest' } })
    expect(root.user).toBe('root')
    await root.join('general').ready
    await expect(guest.join('general').ready).rejects.toMatchObject({ code: 'forbidden' })
    expect(seen).toEqual([
      { action: 'join', user: 'root', data: { role: 'admin' } },
      { action: 'join', user: 'guest', data: { role: 'guest' } },
    ])
  })

  it("passes any other token to the app's own authenticate", async () => {
    await using server = await createTestServer({
      protocol: chat,
      authenticate: (req) => (req.url?.includes('token=good') === true ? { user: 'real' } : null),
    })
    await using real = await server.connect({ token: 'good' })
    expect(real.user).toBe('real')
    await using kit = await server.connect({ user: 'kit' })
    expect(kit.user).toBe('kit')
    await expect(server.connect({ token: 'bad' })).rejects.toMatchObject({ code: 'refused' })
  })

  it("checks a real JWT with the server's own auth when the app has no authenticate hook", async () => {
    const secret = 'kit-test-secret-with-enough-length-0123'
    const sign = (claims: Record<string, unknown>, key = secret) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(key))
    await using server = await createTestServer({
      protocol: chat,
      auth: { required: true, jwtSecret: secret },
    })
    await using alice = await server.connect({ token: await sign({ sub: 'alice' }) })
    expect(alice.user).toBe('alice')
    await alice.join('general').ready
    // The kit's own users still get in; a token the server's check refuses is refused.
    await using kit = await server.connect({ user: 'kit' })
    expect(kit.user).toBe('kit')
    const forged = await sign({ sub: 'mallory' }, 'another-secret-another-secret-0000')
    await expect(server.connect({ token: forged })).rejects.toMatchObject({ code: 'refused' })
    await expect(server.connect()).rejects.toMatchObject({ code: 'refused' })
  })

  it('gives up on a connection that does not open within timeoutMs, naming where it stands', async () => {
    await using server = await createTestServer({
      protocol: chat,
      // The app's hook never answers (until the server's own authTimeoutMs).
      authenticate: () => new Promise(() => {}),
    })
    await expect(server.connect({ token: 'slow', timeoutMs: 100 })).rejects.toThrow(
      /^anonymous client 1 connecting: not open within 100 ms \(connecting\)/,
    )
  })

  it('lets a connection without a user in anonymously unless auth is required', async () => {
    await using open = await createTestServer({ protocol: chat })
    await using anonymous = await open.connect()
    expect(anonymous.status).toBe('open')
    expect(anonymous.user).toBeNull()
    await using closed = await createTestServer({ protocol: chat, auth: { required: true } })
    await expect(closed.connect()).rejects.toThrow(
      /anonymous client 1 connecting: not open \(unauthorized, for good\)/,
    )
  })
})
