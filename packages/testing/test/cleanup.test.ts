import { describe, expect, it } from 'vitest'
import { createTestServer } from '../src/index'
import { chat } from './chat'

/**
 * Sockets and listeners open now, by kind. Timers are left out here because the test runner's own
 * come and go; the node:test file checks timers too, in a process of its own.
 */
function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap') {
      counts[kind] = (counts[kind] ?? 0) + 1
    }
  }
  return counts
}

async function busyTest(): Promise<void> {
  await using server = await createTestServer({ protocol: chat })
  await using alice = await server.connect({ user: 'alice' })
  await using bob = await server.connect({ user: 'bob' })
  await Promise.all([alice.join('general').ready, bob.join('general').ready])
  await alice.room('general').handle.publish('chat', { text: 'hi' })
  await bob.room('general').next('chat')
  await server.cut(bob)
  await bob.waitFor('open')
  // A wait still running when the test ends is rejected by the close, its timer cleared.
  void bob
    .room('general')
    .next('typing', { timeoutMs: 60_000 })
    .catch(() => {})
  void alice.raw.next('system', { timeoutMs: 60_000 }).catch(() => {})
  await server.restart({ keepState: true })
  await alice.waitFor('open')
}

describe('close', () => {
  it('leaves no socket or listener behind after await using', async () => {
    const before = liveHandles()
    await busyTest()
    expect(liveHandles()).toEqual(before)
  })

  it('leaves none behind after close() with clients still connecting', async () => {
    const before = liveHandles()
    const server = await createTestServer({ protocol: chat })
    await server.connect({ user: 'alice' })
    const late = expect(server.connect({ user: 'bob', wait: false })).rejects.toMatchObject({
      code: 'closed',
    })
    await server.close()
    await late
    expect(liveHandles()).toEqual(before)
  })

  it('rejects a wait that is pending when its client closes', async () => {
    await using server = await createTestServer({ protocol: chat })
    const alice = await server.connect({ user: 'alice' })
    await alice.join('general').ready
    const waiting = expect(alice.room('general').next('chat', { timeoutMs: 60_000 })).rejects.toMatchObject({
      code: 'closed',
    })
    await alice[Symbol.asyncDispose]()
    await waiting
  })

  it('runs servers side by side without sharing anything', async () => {
    const [one, two] = await Promise.all([
      createTestServer({ protocol: chat }),
      createTestServer({ protocol: chat }),
    ])
    await using a = one
    await using b = two
    expect(a.port).not.toBe(b.port)
    await using alice = await a.connect({ user: 'alice' })
    await using bob = await b.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    await alice.room('general').handle.publish('chat', { text: 'only on one' })
    await bob.room('general').nothing('chat', 50)
    expect(await b.rooms.roomInfo('general')).toMatchObject({ seq: 0 })
  })
})
