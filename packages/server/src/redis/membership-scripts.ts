import type { Member } from '@roomwire/protocol'
import type { Redis } from 'ioredis'
import { type Frame, parseHistory } from './frames'
import type { KeyLayout } from './keys'
import { bindScript, defineScript, ENSURE_STATE, FENCE, REPLAY, TOUCH_ROOM } from './lua'
import {
  FENCED,
  type Fenced,
  freshEpoch,
  IDLE_KEYS,
  idleArgs,
  type NodeScope,
  parseMembers,
  ROOM_KEYS,
  type RoomLimits,
  recoveredOf,
  roomScriptKeys,
  type Seed,
  UNSEEDED,
  type Unseeded,
} from './script-shared'

/** What a join script answered. */
export type JoinReply =
  | {
      ok: true
      epoch: string
      seq: number
      rejoined: boolean
      /** Undefined when no `since` was asked. */
      recovered: boolean | undefined
      members: Member[]
      replay: Frame[]
    }
  | { ok: false; reason: 'full' }
  | Fenced
  | Unseeded

/** What a leave script answered; `removed` is false when it was not a member. */
export type LeaveReply = { ok: true; removed: boolean; idleOver: boolean } | Fenced

/** What a presence script answered; `updated` is false when it is not a member. */
export type PresenceReply = { ok: true; updated: boolean } | Fenced

const JOIN = defineScript({
  name: 'roomwireJoin',
  keys: [...ROOM_KEYS, ...IDLE_KEYS, 'node_rooms', 'node'],
  args: [
    'room',
    'channel',
    'member_id',
    'member_json',
    'node_id',
    'generation',
    'max_members',
    'epoch',
    'reset_frame',
    'seed',
    'since',
    'since_epoch',
    'history',
    'joined_frame',
    'mark',
  ],
  // The mark goes last: once the joining node receives it, it has received every frame published before.
  lua: `${FENCE}${ENSURE_STATE}${TOUCH_ROOM}${REPLAY}
if not registered() then return 'fenced' end
local epoch, seq = ensure_state()
if not epoch then return 'unseeded' end
local rejoined = redis.call('HEXISTS', K.members, A.member_id)
if rejoined == 0 then
  if redis.call('HLEN', K.members) >= tonumber(A.max_members) then return 'full' end
  redis.call('HSET', K.members, A.member_id, A.member_json)
  redis.call('HSET', K.owners, A.member_id, A.node_id)
  redis.call('SADD', K.node_rooms, A.room)
  touch_room()
  redis.call('PUBLISH', A.channel, A.member_id .. '\\n' .. A.joined_frame)
end
local recovered, messages = replay(epoch, seq, A.since, A.since_epoch, tonumber(A.history))
redis.call('PUBLISH', A.channel, '#' .. A.mark)
return { epoch, seq, rejoined, recovered, redis.call('HVALS', K.members), messages }
`,
  reply: (r): JoinReply => {
    if (r.is('fenced')) return FENCED
    if (r.is('full')) return { ok: false, reason: 'full' }
    if (r.is('unseeded')) return UNSEEDED
    const [epoch, seq, rejoined, recovered] = [r.string(), r.int(), r.flag(), recoveredOf(r)]
    const [members, replay] = [parseMembers(r.strings()), parseHistory(r.strings())]
    return {
      ok: true,
      epoch,
      seq,
      rejoined,
      recovered: recovered === -1 ? undefined : recovered === 1,
      members,
      replay,
    }
  },
})

const LEAVE = defineScript({
  name: 'roomwireLeave',
  keys: [...ROOM_KEYS, ...IDLE_KEYS, 'node'],
  args: [
    'room',
    'channel',
    'member_id',
    'left_frame',
    'idle_ms',
    'max_idle_rooms',
    'max_idle_bytes',
    'generation',
  ],
  lua: `${FENCE}${TOUCH_ROOM}
if not registered() then return 'fenced' end
if redis.call('HDEL', K.members, A.member_id) == 0 then return { 0, 0 } end
redis.call('HDEL', K.owners, A.member_id)
redis.call('PUBLISH', A.channel, '\\n' .. A.left_frame)
touch_room()
return { 1, idle_over() }
`,
  reply: (r): LeaveReply => {
    if (r.is('fenced')) return FENCED
    const [removed, idleOver] = [r.flag(), r.flag()]
    return { ok: true, removed, idleOver }
  },
})

const PRESENCE = defineScript({
  name: 'roomwirePresence',
  keys: ['members', 'node'],
  args: ['channel', 'member_id', 'member_json', 'presence_frame', 'generation'],
  lua: `${FENCE}
if not registered() then return 'fenced' end
if redis.call('HEXISTS', K.members, A.member_id) == 0 then return 0 end
redis.call('HSET', K.members, A.member_id, A.member_json)
redis.call('PUBLISH', A.channel, A.member_id .. '\\n' .. A.presence_frame)
return 1
`,
  reply: (r): PresenceReply => (r.is('fenced') ? FENCED : { ok: true, updated: r.flag() }),
})

/** The join, leave and presence scripts bound to one connection. */
export function membershipScripts(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
  const run = {
    join: bindScript(redis, JOIN),
    leave: bindScript(redis, LEAVE),
    presence: bindScript(redis, PRESENCE),
  }
  return {
    /** Add a member (unless the room is full) and read what its join replays; publishes `mark` last. */
    async join(
      scope: NodeScope,
      a: {
        room: string
        member: Member
        maxMembers: number
        replay: { since?: number; epoch?: string; history?: number }
        mark: string
        /** Where the room starts if Redis has no state of it (see {@link Seed}). */
        seed?: Seed
      },
    ): Promise<JoinReply> {
      const reply = await run.join(
        {
          ...roomScriptKeys(keys, a.room),
          node_rooms: keys.nodeRooms(scope.nodeId),
          node: keys.node(scope.nodeId),
        },
        {
          room: a.room,
          channel: keys.roomChannel(a.room),
          member_id: a.member.id,
          member_json: JSON.stringify(a.member),
          node_id: scope.nodeId,
          generation: scope.generation,
          max_members: a.maxMembers,
          ...freshEpoch(a.room, a.seed),
          since: a.replay.since ?? '',
          since_epoch: a.replay.epoch ?? '',
          history: a.replay.history ?? 0,
          joined_frame: JSON.stringify({ type: 'member_joined', room: a.room, member: a.member }),
          mark: a.mark,
        },
      )
      return reply
    },

    /** Remove a member and announce it; `removed` is false when it was not a member. */
    async leave(scope: NodeScope, room: string, id: string): Promise<LeaveReply> {
      return run.leave(
        { ...roomScriptKeys(keys, room), node: keys.node(scope.nodeId) },
        {
          room,
          channel: keys.roomChannel(room),
          member_id: id,
          left_frame: JSON.stringify({ type: 'member_left', room, id }),
          ...idleArgs(limits),
          generation: scope.generation,
        },
      )
    },

    /** Replace a member's presence and announce it; `updated` is false when it is not a member. */
    async presence(scope: NodeScope, room: string, member: Member): Promise<PresenceReply> {
      return run.presence(
        { members: keys.room(room).members, node: keys.node(scope.nodeId) },
        {
          channel: keys.roomChannel(room),
          member_id: member.id,
          member_json: JSON.stringify(member),
          presence_frame: JSON.stringify({
            type: 'presence',
            room,
            id: member.id,
            state: member.presence ?? null,
          }),
          generation: scope.generation,
        },
      )
    },
  }
}
