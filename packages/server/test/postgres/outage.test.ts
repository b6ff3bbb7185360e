import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPostgresHistory, type PostgresHistory, type StoreRefusal } from '../../src/postgres/index'
import { adminPool, backends, stored, storedSeqs, terminate, uniqueTable, urlNamed } from './pg-helpers'

let admin: pg.Pool
const table = uniqueTable()

beforeAll(() => {
  admin = adminPool()
})

afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS "${table}"`)
  await admin.end()
})

/** A store whose connections carry their own application name, so the test can kill exactly them. */
function namedStore(): { store: PostgresHistory; name: string } {
  const name = `rw_outage_${randomBytes(4).toString('hex')}`
  const store = createPostgresHistory({
    connectionString: urlNamed(name),
    retention: { maxAgeMs: 3650 * 86_400_000 },
    table,
    probeIntervalMs: 50,
  })
  return { store, name }
}

describe('postgres history when its connections are killed', () => {
  it('refuses with unavailable, reports degraded, recovers by itself, and keeps every acknowledged message', async () => {
    const { store, name } = namedStore()
    const rooms = ['a', 'b', 'c', 'd']
    const next = new Map(rooms.map((r) => [r, 1]))
    const acked = new Map<string, number[]>(rooms.map((r) => [r, []]))
    let refusal: StoreRefusal | undefined
    let degradedSeen = false

    // Like a server: each room appends its next seq when the previous one settled; after a refusal it
    // asks the store where the room stands (an ambiguous commit may have landed) and goes on from there.
    async function stream(room: string, until: () => boolean): Promise<void> {
      while (!until()) {
        const seq = next.get(room)!
        const outcome = await store.append(stored(room, seq))
        if (outcome.ok) {
          acked.get(room)!.push(seq)
          next.set(room, seq + 1)
          continue
        }
        refusal ??= outcome
        if (!store.health().up) degradedSeen = true
        await expect.poll(() => store.health().up, { timeout: 5000, interval: 10 }).toBe(true)
        const head = await store.head(room)
        if (head.ok) next.set(room, (head.head?.seq ?? 0) + 1)
      }
    }

    let killed = false
    let afterKill = 0
    const streams = rooms.map((room) => stream(room, () => killed && afterKill >= 200))
    await expect.poll(() => acked.get('a')!.length, { timeout: 5000 }).toBeGreaterThan(50)
    // Kill the store's backends mid-stream, again until one of its statements is caught by it.
    for (let attempt = 0; attempt < 50 && refusal === undefined; attempt++) {
      await terminate(admin, name)
      // Until the store has a backend again (a kill between two statements costs nothing) or was refused.
      await vi.waitFor(async () => {
        if (refusal === undefined && (await backends(admin, name)) === 0) throw new Error('not yet')
      })
    }
    killed = true
    const counted = acked.get('b')!.length
    await expect.poll(() => acked.get('b')!.length - counted, { timeout: 10_000 }).toBeGreaterThan(200)
    afterKill = 200
    await Promise.all(streams)

    expect(refusal).toMatchObject({
      ok: false,
      code: 'unavailable',
      message: expect.stringContaining('postgres'),
    })
    expect(degradedSeen).toBe(true)
    expect(store.health()).toEqual({ up: true })
    for (const room of rooms) {
      const seqs = await storedSeqs(admin, table, room)
      // No gap, and every acknowledged message is there.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
      expect(seqs).toEqual(expect.arrayContaining(acked.get(room)!))
    }
    await store.close()
  })

  it('answers at once while down, without queueing work behind the dead server', async () => {
    const dead = createPostgresHistory({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      retention: { maxAgeMs: 3650 * 86_400_000 },
      table,
      probeIntervalMs: 60_000,
    })
    const first = await dead.append(stored('down', 1))
    expect(first).toMatchObject({ ok: false, code: 'unavailable' })
    expect(dead.health()).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') })
    expect(dead.stats().pending).toBe(0)
    // Down: every call is refused without a connection attempt.
    expect(await dead.page('down', { epoch: 'e', limit: 5 })).toMatchObject({
      ok: false,
      code: 'unavailable',
    })
    expect(await dead.head('down')).toMatchObject({ ok: false, code: 'unavailable' })
    expect(await dead.findId('down', 'x')).toMatchObject({ ok: false, code: 'unavailable' })
    await dead.close()
  })
})
