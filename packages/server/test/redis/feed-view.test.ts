import type { Member } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import type { AdapterNode, RoomBroadcast } from '../../src/adapter'
import type { Frame } from '../../src/redis/frames'
import { RoomFeed } from '../../src/redis/room-feed'
import { manualClock } from '../manual-clock'

const frame = (message: RoomBroadcast): Frame => ({
  skip: undefined,
  encoded: JSON.stringify(message),
  message,
})
const joinedFrame = (id: string) => frame({ type: 'member_joined', room: 'r', member: { id } })
const leftFrame = (id: string) => frame({ type: 'member_left', room: 'r', id })

/** A feed whose deliveries are recorded, and the catch-ups it asks for counted. */
function recordingFeed() {
  const delivered: RoomBroadcast[] = []
  const node: AdapterNode = {
    nodeId: 'n_test',
    deliver: (_room, message) => delivered.push(message),
    deliverDirect: () => 0,
  }
  const catchUps = { count: 0 }
  const feed = new RoomFeed('r', 'ch:r', node, () => catchUps.count++, manualClock())
  return { feed, delivered, catchUps }
}

const left = (delivered: RoomBroadcast[]) =>
  delivered.flatMap((m) => (m.type === 'member_left' ? [m.id] : [])).sort()

/** Redis lost the room: the catch-up finds only this node's own member in a new epoch. */
const storeLost = (own: Member[]) => ({
  epoch: 'e2',
  seq: 0,
  recovered: 0 as const,
  members: own,
  replay: [],
})

describe("a room feed's view of the members, which a catch-up diffs to announce what its members missed", () => {
  it("counts a join that lands between this node's join script and its answer (issue 13, found by the model)", () => {
    const { feed, delivered } = recordingFeed()
    const self = { id: 'c_self' }
    feed.members.set(self.id, self)
    // Our join script read [self] and published its mark; another node's join came right after it.
    feed.receive(frame({ type: 'reset', room: 'r', epoch: 'e1', seq: 0 }))
    feed.receive(joinedFrame(self.id))
    feed.receive({ mark: 'm1' })
    feed.receive(joinedFrame('c_other'))
    feed.joined('e1', 0, [self], 'm1')
    expect(delivered.filter((m) => m.type === 'member_joined').map((m) => m.type)).toHaveLength(2)
    // Redis restarted empty before the other node's member left (its node was killed): nobody announces
    // that leave but this catch-up.
    feed.suspend()
    delivered.length = 0
    feed.finishCatchUp(storeLost([self]))
    expect(left(delivered)).toEqual(['c_other'])
  })

  it('does not count twice what the answer already lists, nor a member that left before the mark', () => {
    const { feed, delivered } = recordingFeed()
    const self = { id: 'c_self' }
    feed.members.set(self.id, self)
    feed.receive(frame({ type: 'reset', room: 'r', epoch: 'e1', seq: 0 }))
    feed.receive(joinedFrame('c_gone'))
    feed.receive(joinedFrame('c_stays'))
    feed.receive(leftFrame('c_gone'))
    feed.receive(joinedFrame(self.id))
    feed.receive({ mark: 'm1' })
    feed.receive(leftFrame('c_stays'))
    feed.receive(joinedFrame('c_late'))
    feed.joined('e1', 0, [{ id: 'c_stays' }, self], 'm1')
    feed.suspend()
    delivered.length = 0
    // Redis still holds exactly what the frames said: the diff announces nothing.
    feed.finishCatchUp({ epoch: 'e1', seq: 0, recovered: 1, members: [self, { id: 'c_late' }], replay: [] })
    expect(delivered.filter((m) => m.type !== 'message')).toEqual([])
  })

  it('asks for a catch-up when it had to drop membership frames before the first answer', () => {
    const { feed, catchUps } = recordingFeed()
    feed.receive(frame({ type: 'reset', room: 'r', epoch: 'e1', seq: 0 }))
    feed.receive({ mark: 'm1' })
    for (let i = 0; i <= 10_000; i++) feed.receive(joinedFrame(`c_${i}`))
    expect(catchUps.count).toBe(0)
    feed.joined('e1', 0, [], 'm1')
    expect(catchUps.count).toBe(1)
    expect(feed.catchingUp).toBe(true)
  })
})
