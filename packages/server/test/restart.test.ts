import { describe, expect, it } from 'vitest'
import { startTestServer, type TestClient } from './helpers'

async function publishN(client: TestClient, room: string, n: number, from: number): Promise<void> {
  for (let i = 0; i < n; i++) await client.request({ type: 'publish', room, event: 'chat', data: from + i })
}

describe('a server restart that lost the room (issue 13, item 2)', () => {
  it('replays every message of the new epoch, once and in order, to a member that comes back late', async () => {
    const before = await startTestServer()
    const alice = await before.connect({ join: 'team' })
    const bob = await before.connect({ join: 'team' })
    await publishN(alice, 'team', 3, 100)
    const old = bob.received('joined')[0]!
    await bob.next('message', (m) => m.seq === 3)
    // Memory state is gone with the process: a new server, a new epoch.
    await before.close()

    await using after = await startTestServer()
    await using alice2 = await after.connect()
    alice2.send({ type: 'join', room: 'team', since: 3, epoch: old.epoch })
    const aliceJoined = await alice2.next('joined')
    expect(aliceJoined).toMatchObject({ seq: 0, recovered: false })
    expect(aliceJoined.epoch).not.toBe(old.epoch)
    await publishN(alice2, 'team', 4, 200)

    // Bob comes back later, with what he saw before the restart.
    await using bob2 = await after.connect()
    bob2.send({ type: 'join', room: 'team', since: 3, epoch: old.epoch })
    const joined = await bob2.next('joined')
    expect(joined).toMatchObject({ seq: 4, epoch: aliceJoined.epoch, recovered: false, replay: 4 })
    await bob2.next('message', (m) => m.seq === 4)
    expect(bob2.messages.map((m) => m.type)).toEqual([
      'welcome',
      'joined',
      'message',
      'message',
      'message',
      'message',
    ])
    expect(bob2.received('message').map((m) => [m.seq, m.data])).toEqual([
      [1, 200],
      [2, 201],
      [3, 202],
      [4, 203],
    ])
    // Then live, after the replay.
    await publishN(alice2, 'team', 1, 204)
    await expect(bob2.next('message', (m) => m.seq === 5)).resolves.toMatchObject({ data: 204 })
    expect(bob2.received('message')).toHaveLength(5)
  })
})
