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
const messageFrame = (seq: number, key: string) =>
  frame({ type: 'message', room: 'r', event: 'm', data: { key }, from: 'c_pub', seq, ts: 0 })
const delivery = (m: RoomBroadcast) =>
  m.type === 'message'
    ? `#${m.seq} ${(m.data as { key: string }).key}`
    : m.type === 'reset'
      ? `reset ${m.epoch} ${m.seq}`
      : m.type

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

describe('frames a feed held when its link to Redis went down', () => {
  /** A feed live in epoch e1 with its own member, at seq 0. */
  function liveFeed() {
    const recorded = recordingFeed()
    const self = { id: 'c_self' }
    recorded.feed.members.set(self.id, self)
    recorded.feed.receive(frame({ type: 'reset', room: 'r', epoch: 'e1', seq: 0 }))
    recorded.feed.receive({ mark: 'm1' })
    recorded.feed.joined('e1', 0, [self], 'm1')
    return { ...recorded, self }
  }

  it("are not delivered as the new epoch's messages when Redis came back empty (issue 13, case 4)", () => {
    const { feed, delivered, self } = liveFeed()
    // A catch-up is due (a gap, or a reset of the same epoch) and e1's messages pile up meanwhile...
    feed.suspend()
    for (let seq = 1; seq <= 3; seq++) feed.receive(messageFrame(seq, `e1-${seq}`))
    // ...then Redis restarts empty: the catch-up after the link is back finds epoch e2 at seq 0.
    feed.linkLost()
    feed.finishCatchUp({ epoch: 'e2', seq: 0, recovered: -1, members: [self], replay: [] })
    feed.receive(messageFrame(1, 'e2-1'))
    expect(delivered.map(delivery)).toEqual(['reset e2 0', '#1 e2-1'])
  })

  it('still delivers what came after the link was back, and what the catch-up replays, once each', () => {
    const { feed, delivered, self } = liveFeed()
    feed.receive(messageFrame(1, 'e1-1'))
    feed.linkLost()
    feed.receive(messageFrame(2, 'e1-2'))
    // The same Redis (a network blip): its replay and the frames after the resubscribe overlap.
    feed.finishCatchUp({
      epoch: 'e1',
      seq: 2,
      recovered: 1,
      members: [self],
      replay: [messageFrame(2, 'e1-2')],
    })
    feed.receive(messageFrame(3, 'e1-3'))
    expect(delivered.filter((m) => m.type === 'message').map(delivery)).toEqual([
      '#1 e1-1',
      '#2 e1-2',
      '#3 e1-3',
    ])
  })

  it('do not bring back, after a store loss, a member whose join was among them', () => {
    const { feed, delivered, self } = liveFeed()
    feed.suspend()
    feed.receive(joinedFrame('c_doomed'))
    feed.linkLost()
    feed.finishCatchUp({ epoch: 'e2', seq: 0, recovered: -1, members: [self], replay: [] })
    expect(
      delivered
        .filter((m) => m.type === 'member_joined')
        .map((m) => m.type === 'member_joined' && m.member.id),
    ).toEqual([])
  })

  it("still resolve a join's wait for its mark", async () => {
    const { feed, self } = liveFeed()
    const wait = feed.waitMark('m2', 1000)
    feed.suspend()
    feed.receive({ mark: 'm2' })
    feed.linkLost()
    feed.finishCatchUp({ epoch: 'e1', seq: 0, recovered: 1, members: [self], replay: [] })
    await expect(wait.promise).resolves.toBeUndefined()
  })
})
