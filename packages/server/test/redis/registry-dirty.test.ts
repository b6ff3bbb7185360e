import type { Member } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import type { AdapterContext } from '../../src/redis/context'
import { NodeRegistry, type Upkeep } from '../../src/redis/node-registry'
import type { RoomFeeds } from '../../src/redis/room-feeds'
import type { NodeScope } from '../../src/redis/script-shared'

/**
 * The registry's record of rooms whose membership in Redis may be wrong, with its collaborators reduced
 * to what that record touches: a link whose status the test sets, and a sync script that records what it
 * was asked to register (the real scripts run in outage.test.ts and the model of reliability/).
 */
function registryWith() {
  const link = { state: { status: 'registering' } as { status: string } }
  const syncs: { room: string; members: string[] }[] = []
  const rooms = {
    sync: async (_scope: NodeScope, room: string, local: Iterable<Member>) => {
      syncs.push({ room, members: [...local].map((m) => m.id) })
      return { ok: true, idleOver: false, snapshot: undefined }
    },
  }
  const ctx = { link, rooms, log: undefined } as unknown as AdapterContext
  const feeds = { get: () => undefined, retryStalled: () => {} } as unknown as RoomFeeds
  const upkeep: Upkeep = {
    reap: async () => ({ removed: 0, idleOver: false }),
    sweepIdleRooms: async () => ({ freed: 0, over: false }),
    countIdleRooms: async () => {},
  }
  return { registry: new NodeRegistry(ctx, feeds, upkeep), link, syncs }
}

const scope: NodeScope = { nodeId: 'n_1', generation: 'g_1' }

describe('rooms a leave could not reach Redis for', () => {
  it('are synced by the next upkeep', async () => {
    const { registry, link, syncs } = registryWith()
    await registry.removeMember('r', 'c_gone')
    link.state = { status: 'up' }
    await registry.maintain(scope)
    expect(syncs).toEqual([{ room: 'r', members: [] }])
    await registry.maintain(scope)
    expect(syncs).toHaveLength(1)
  })

  it('stay to be synced when the leave came while a sync that had read the member was in flight (found by the model)', async () => {
    const { registry, link, syncs } = registryWith()
    // A restore's catch-up read the room's members (the leaving one still among them) and is in flight.
    const done = registry.syncing('r')
    await registry.removeMember('r', 'c_gone')
    // Its answer: Redis holds the member again, registered by that sync.
    done(false)
    link.state = { status: 'up' }
    await registry.maintain(scope)
    expect(syncs.map((s) => s.room)).toEqual(['r'])
  })

  it('are cleared by a sync that read the members after the leave', async () => {
    const { registry, link, syncs } = registryWith()
    await registry.removeMember('r', 'c_gone')
    const done = registry.syncing('r')
    done(false)
    link.state = { status: 'up' }
    await registry.maintain(scope)
    expect(syncs).toEqual([])
  })
})
