import { describe, expect, it, vi } from 'vitest'
import { startTestServer, type TestClient, type TestServer } from './helpers'

async function publishN(client: TestClient, room: string, n: number, data: string | number): Promise<void> {
  for (let i = 0; i < n; i++) await client.request({ type: 'publish', room, event: 'e', data })
}

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await server.server.metrics.getSingleMetricAsString(name)
  return Number(/ (\d+(?:\.\d+)?)$/m.exec(text)?.[1] ?? Number.NaN)
}

/** A clock the test moves by hand: the replay budget refills only when it does. */
function manualClock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000
  return { now: () => t, advance: (ms) => (t += ms) }
}

describe('the replay budget', () => {
  it('refuses a join with rate_limited while the budget is spent, and changes nothing', async () => {
    const clock = manualClock()
    await using server = await startTestServer({
      now: clock.now,
      replayBytesPerSec: 10_000,
      replayBurstBytes: 100_000,
      rateLimitPerSec: 0,
    })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 10, 'x'.repeat(20_000))
    await using bob = await server.connect()
    // 200 KB: more than the burst, allowed once (a full budget may be overdrawn by one join).
    await expect(bob.request({ type: 'join', room: 'r', history: 10 })).resolves.toMatchObject({
      type: 'joined',
    })
    await bob.request({ type: 'leave', room: 'r' })
    const refused = await bob.request({ type: 'join', room: 'r', history: 10, ref: 'again' })
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', ref: 'again', room: 'r' })
    expect((refused as { message: string }).message).toMatch(/^join: /)
    expect((await server.server.roomInfo('r'))?.members).toEqual([{ id: alice.id }])
    await vi.waitFor(() => expect(alice.received('member_left')).toHaveLength(1))
    expect(alice.received('member_joined')).toHaveLength(1)
    expect(await metric(server, 'roomwire_replay_refusals_total')).toBe(1)
    expect(bob.ws.readyState).toBe(1)
  })

  it('lets the same join through once the budget refilled', async () => {
    const clock = manualClock()
    await using server = await startTestServer({
      now: clock.now,
      replayBytesPerSec: 10_000,
      replayBurstBytes: 100_000,
      rateLimitPerSec: 0,
    })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 10, 'x'.repeat(20_000))
    await using bob = await server.connect()
    await bob.request({ type: 'join', room: 'r', history: 10 })
    await bob.request({ type: 'leave', room: 'r' })
    expect(await bob.request({ type: 'join', room: 'r', history: 10 })).toMatchObject({
      code: 'rate_limited',
    })
    // The debt is about 100 KB: at 10 KB a second it is paid after some 10 s.
    clock.advance(11_000)
    await expect(bob.request({ type: 'join', room: 'r', history: 10 })).resolves.toMatchObject({
      type: 'joined',
      replay: 10,
    })
  })

  it('bounds what a join-and-leave loop gets out of the server to the burst and one join', async () => {
    const clock = manualClock()
    const burst = 1_500_000
    await using server = await startTestServer({
      now: clock.now,
      replayBytesPerSec: 100_000,
      replayBurstBytes: burst,
      historyMaxBytes: 8 * 1024 * 1024,
      rateLimitPerSec: 0,
    })
    await using alice = await server.connect({ join: 'r' })
    await publishN(alice, 'r', 100, 'x'.repeat(10_000))
    const joinBytes = 100 * 10_100
    await using attacker = await server.connect()
    let joined = 0
    for (let i = 0; i < 20; i++) {
      const reply = await attacker.request({ type: 'join', room: 'r', history: 100 })
      if (reply.type === 'joined') {
        joined++
        await attacker.next(
          'message',
          (m) => m.seq === 100 && attacker.received('message').length === joined * 100,
        )
        await attacker.request({ type: 'leave', room: 'r' })
      }
    }
    // 20 joins asked for 20 MB; the budget let out its burst and the one join that overdrew it.
    expect(joined).toBe(2)
    expect(await metric(server, 'roomwire_replayed_bytes_total')).toBeLessThan(
      burst + 1.1 * joinBytes + 10_000,
    )
    expect(await metric(server, 'roomwire_replay_refusals_total')).toBe(18)
  })

  it('never refuses a new connection that joins as many rooms as it may with their whole history', async () => {
    // The defaults: 10 rooms per connection, 1 MiB of history per room, 32 MiB of burst.
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    await using alice = await server.connect()
    const rooms = Array.from({ length: 10 }, (_, i) => `full-${i}`)
    for (const room of rooms) {
      await alice.request({ type: 'join', room })
      await publishN(alice, room, 20, 'x'.repeat(60_000))
    }
    await using back = await server.connect()
    for (const room of rooms) {
      await expect(back.request({ type: 'join', room, history: 100 })).resolves.toMatchObject({
        type: 'joined',
      })
    }
    await vi.waitFor(() => expect(back.received('message').length).toBeGreaterThanOrEqual(10 * 17), {
      timeout: 10_000,
    })
    expect(back.received('error')).toEqual([])
  }, 30_000)
})
