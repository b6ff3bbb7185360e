import { describe, expect, it } from 'vitest'
import { startTestServer } from './helpers'

describe('connecting', () => {
  it('sends welcome first with the id, protocol version, heartbeat and limits', async () => {
    await using server = await startTestServer({ pingIntervalMs: 1234, pongTimeoutMs: 567 })
    await using client = await server.connect()
    expect(client.messages[0]).toEqual({
      type: 'welcome',
      id: client.id,
      protocol: 1,
      heartbeat: { interval: 1234, timeout: 567 },
      limits: {
        maxMessageBytes: 65_536,
        maxRoomsPerConnection: 10,
        maxPresenceBytes: 2048,
        maxMembersPerRoom: 1000,
        historySize: 100,
        maxNestingDepth: 32,
        maxRequestsInFlight: 16,
      },
    })
    expect(client.ws.protocol).toBe('roomwire.v1')
  })

  it('accepts a client that offers no subprotocol', async () => {
    await using server = await startTestServer()
    await using client = await server.connect({ protocols: [] })
    expect(client.id).toMatch(/^c_/)
    expect(client.ws.protocol).toBe('')
  })

  it('closes a client that offers only unknown subprotocols with 4400 and no welcome', async () => {
    await using server = await startTestServer()
    await using client = await server.connect({ protocols: ['chat.v9'], welcome: false })
    expect((await client.closed).code).toBe(4400)
    expect(client.received('welcome')).toHaveLength(0)
  })

  it('gives every connection a different id', async () => {
    await using server = await startTestServer()
    await using a = await server.connect()
    await using b = await server.connect()
    expect(a.id).not.toBe(b.id)
    expect(
      server.server
        .connections()
        .map((c) => c.id)
        .sort(),
    ).toEqual([a.id, b.id].sort())
  })

  it('answers a WebSocket upgrade on another path with 404', async () => {
    await using server = await startTestServer()
    const client = await server.connect({ welcome: false })
    await client.close()
    const other = new (await import('./helpers')).TestClient(`ws://127.0.0.1:${server.port}/other`)
    await expect(other.opened).rejects.toThrow('HTTP 404')
  })
})

describe('joining and leaving', () => {
  it('answers join with joined carrying seq 0, an epoch and the members', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    alice.send({ type: 'join', room: 'lobby', ref: 1 })
    const joined = await alice.next('joined')
    expect(joined).toEqual({
      type: 'joined',
      room: 'lobby',
      seq: 0,
      epoch: expect.stringMatching(/^e_/),
      members: [{ id: alice.id }],
      ref: 1,
    })
  })

  it('tells the other members, not the joiner, with member_joined', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    await using bob = await server.connect()
    bob.send({ type: 'join', room: 'lobby', presence: { name: 'Bob' } })
    const joined = await bob.next('joined')
    expect(joined.members).toEqual(
      expect.arrayContaining([{ id: alice.id }, { id: bob.id, presence: { name: 'Bob' } }]),
    )
    await expect(alice.next('member_joined')).resolves.toEqual({
      type: 'member_joined',
      room: 'lobby',
      member: { id: bob.id, presence: { name: 'Bob' } },
    })
    expect(bob.received('member_joined')).toHaveLength(0)
  })

  it('answers a second join of the same room with joined again and tells nobody', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    await using bob = await server.connect({ join: 'lobby' })
    await alice.next('member_joined')
    const again = await bob.request({ type: 'join', room: 'lobby' })
    expect(again).toMatchObject({ type: 'joined', room: 'lobby', seq: 0 })
    const ping = await alice.request({ type: 'ping' })
    expect(ping.type).toBe('pong')
    expect(alice.received('member_joined')).toHaveLength(1)
  })

  it('answers leave with left and tells the others with member_left', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    await using bob = await server.connect({ join: 'lobby' })
    await expect(bob.request({ type: 'leave', room: 'lobby', ref: 'x' })).resolves.toEqual({
      type: 'left',
      room: 'lobby',
      ref: 'x',
    })
    await expect(alice.next('member_left')).resolves.toEqual({
      type: 'member_left',
      room: 'lobby',
      id: bob.id,
    })
  })

  it('refuses leaving a room not joined with not_joined', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    await expect(alice.request({ type: 'leave', room: 'lobby', ref: 1 })).resolves.toMatchObject({
      type: 'error',
      code: 'not_joined',
      room: 'lobby',
      ref: 1,
    })
  })

  it('sends member_left to the others when a member disconnects', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    const bob = await server.connect({ join: 'lobby' })
    await bob.close()
    await expect(alice.next('member_left')).resolves.toMatchObject({ id: bob.id })
  })

  it('refuses a join past the members per room limit with room_full', async () => {
    await using server = await startTestServer({ maxMembersPerRoom: 1 })
    await using alice = await server.connect({ join: 'small' })
    await using bob = await server.connect()
    await expect(bob.request({ type: 'join', room: 'small', ref: 1 })).resolves.toMatchObject({
      type: 'error',
      code: 'room_full',
      room: 'small',
    })
    expect(alice.received('member_joined')).toHaveLength(0)
  })

  it('refuses a join past the rooms per connection limit with too_many_rooms', async () => {
    await using server = await startTestServer({ maxRoomsPerConnection: 2 })
    await using alice = await server.connect({ join: 'a' })
    alice.send({ type: 'join', room: 'b' })
    await alice.next('joined', (m) => m.room === 'b')
    await expect(alice.request({ type: 'join', room: 'c' })).resolves.toMatchObject({
      type: 'error',
      code: 'too_many_rooms',
    })
    // Joining a room it is already in is not a new room.
    await expect(alice.request({ type: 'join', room: 'a' })).resolves.toMatchObject({ type: 'joined' })
  })
})

describe('publishing', () => {
  it('broadcasts to the other members of the room only', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    await using bob = await server.connect({ join: 'lobby' })
    await using carol = await server.connect({ join: 'elsewhere' })
    alice.send({ type: 'publish', room: 'lobby', event: 'chat', data: { text: 'hi' } })
    await expect(bob.next('message')).resolves.toEqual({
      type: 'message',
      room: 'lobby',
      event: 'chat',
      data: { text: 'hi' },
      from: alice.id,
      seq: 1,
      ts: expect.any(Number),
    })
    await alice.request({ type: 'ping' })
    await carol.request({ type: 'ping' })
    expect(alice.received('message')).toHaveLength(0)
    expect(carol.received('message')).toHaveLength(0)
  })

  it('acks a publish with its seq, and numbers the room contiguously', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    for (let i = 1; i <= 3; i++) {
      await expect(
        alice.request({ type: 'publish', room: 'lobby', event: 'e', data: i }),
      ).resolves.toMatchObject({
        type: 'ack',
        seq: i,
      })
    }
  })

  it('echoes a publish to its sender only with echo: true', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    alice.send({ type: 'publish', room: 'lobby', event: 'e', data: null, echo: true, id: 'm1' })
    await expect(alice.next('message')).resolves.toMatchObject({
      from: alice.id,
      data: null,
      id: 'm1',
      seq: 1,
    })
  })

  it('refuses a publish in a room not joined with not_joined', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    await expect(
      alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 1 }),
    ).resolves.toMatchObject({
      code: 'not_joined',
    })
  })

  it('does not publish a message whose id is still in the history again, and acks the original seq', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    await using bob = await server.connect({ join: 'lobby' })
    await alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 1, id: 'same' })
    await alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 2 })
    const retry = await alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 1, id: 'same' })
    expect(retry).toMatchObject({ type: 'ack', seq: 1 })
    await bob.next('message', (m) => m.seq === 2)
    await bob.request({ type: 'ping' })
    expect(bob.received('message').map((m) => m.seq)).toEqual([1, 2])
  })

  it('publishes a repeated id again once it has left the history', async () => {
    await using server = await startTestServer({ historySize: 2 })
    await using alice = await server.connect({ join: 'lobby' })
    await alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 1, id: 'old' })
    await alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 2 })
    await alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 3 })
    await expect(
      alice.request({ type: 'publish', room: 'lobby', event: 'e', data: 1, id: 'old' }),
    ).resolves.toMatchObject({
      seq: 4,
    })
  })
})

describe('presence, direct and ping', () => {
  it('sends a presence change to the other members and acks the sender', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'lobby' })
    await using bob = await server.connect({ join: 'lobby' })
    await expect(
      alice.request({ type: 'presence', room: 'lobby', state: { typing: true }, ref: 5 }),
    ).resolves.toEqual({
      type: 'ack',
      ref: 5,
    })
    await expect(bob.next('presence')).resolves.toEqual({
      type: 'presence',
      room: 'lobby',
      id: alice.id,
      state: { typing: true },
    })
    expect(alice.received('presence')).toHaveLength(0)
    const info = await server.server.roomInfo('lobby')
    expect(info?.members.find((m) => m.id === alice.id)?.presence).toEqual({ typing: true })
  })

  it('refuses presence in a room not joined with not_joined', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    await expect(alice.request({ type: 'presence', room: 'r', state: 1 })).resolves.toMatchObject({
      code: 'not_joined',
    })
  })

  it('refuses a presence state over the presence limit with too_large', async () => {
    await using server = await startTestServer({ maxPresenceBytes: 64 })
    await using alice = await server.connect({ join: 'lobby' })
    await expect(
      alice.request({ type: 'presence', room: 'lobby', state: { text: 'x'.repeat(100) } }),
    ).resolves.toMatchObject({ type: 'error', code: 'too_large', message: expect.stringContaining('64') })
    await expect(
      alice.request({ type: 'join', room: 'other', presence: { text: 'x'.repeat(100) } }),
    ).resolves.toMatchObject({ type: 'error', code: 'too_large' })
  })

  it('delivers a direct message to one connection and acks it', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    await using bob = await server.connect()
    await expect(
      alice.request({ type: 'direct', to: bob.id, event: 'hello', data: { x: 1 }, ref: 1 }),
    ).resolves.toEqual({
      type: 'ack',
      ref: 1,
    })
    await expect(bob.next('direct')).resolves.toEqual({
      type: 'direct',
      event: 'hello',
      data: { x: 1 },
      from: alice.id,
      ts: expect.any(Number),
    })
  })

  it('refuses a direct message to an unknown connection with not_found', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    await expect(
      alice.request({ type: 'direct', to: 'c_nobody', event: 'e', data: 1 }),
    ).resolves.toMatchObject({
      code: 'not_found',
    })
  })

  it('answers ping with pong echoing t and ref', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect()
    await expect(alice.request({ type: 'ping', t: 42, ref: 'p' })).resolves.toEqual({
      type: 'pong',
      t: 42,
      ref: 'p',
    })
  })
})
