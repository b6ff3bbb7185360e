import type { Member } from '@roomwire/protocol'
import type { Redis } from 'ioredis'
import { parseHistory } from './frames'
import type { KeyLayout } from './keys'
import { bindScript, defineScript, ENSURE_STATE, FENCE, REPLAY, TOUCH_ROOM } from './lua'
import {
  FENCED,
  type Fenced,
  freshEpoch,
  IDLE_KEYS,
  idleArgs,
  type NodeScope,
  type Position,
  parseMembers,
  ROOM_KEYS,
  type RoomLimits,
  recoveredOf,
  roomScriptKeys,
  type Seed,
  type Snapshot,
  UNSEEDED,
  type Unseeded,
} from './script-shared'

/** What a sync script answered: the room as a catch-up needs it. */
export type SyncReply = { ok: true; snapshot: Snapshot; idleOver: boolean } | Fenced | Unseeded

const SYNC = defineScript({
  name: 'roomwireSync',
  keys: [...ROOM_KEYS, ...IDLE_KEYS, 'node_rooms', 'node'],
  // Then `count` quadruples: member_id member_json joined_frame presence_frame.
  args: [
    'room',
    'channel',
    'node_id',
    'generation',
    'room_json',
    'epoch',
    'reset_frame',
    'seed',
    'idle_ms',
    'since',
    'since_epoch',
    'max_idle_rooms',
    'max_idle_bytes',
    'count',
  ],
  // Makes this node's members of the room in Redis exactly the ones it has (after an outage, a lapsed
  // registration or a lost store), announcing each change, and returns what a catch-up needs.
  lua: `${FENCE}${ENSURE_STATE}${TOUCH_ROOM}${REPLAY}
if not registered() then return 'fenced' end
local count = tonumber(A.count)
if redis.call('EXISTS', K.state) == 0 and count == 0 then
  redis.call('SREM', K.node_rooms, A.room)
  return { '', 0, 0, {}, {}, 0 }
end
local epoch, seq = ensure_state()
if not epoch then return 'unseeded' end
local wanted = {}
for i = 0, count - 1 do
  local id, json = ARGV[REST + i * 4 + 1], ARGV[REST + i * 4 + 2]
  wanted[id] = true
  local held = redis.call('HGET', K.members, id)
  if not held then
    redis.call('HSET', K.members, id, json)
    redis.call('PUBLISH', A.channel, id .. '\\n' .. ARGV[REST + i * 4 + 3])
  elseif held ~= json then
    redis.call('HSET', K.members, id, json)
    redis.call('PUBLISH', A.channel, id .. '\\n' .. ARGV[REST + i * 4 + 4])
  end
  redis.call('HSET', K.owners, id, A.node_id)
end
local owners = redis.call('HGETALL', K.owners)
for i = 1, #owners, 2 do
  local id = owners[i]
  if owners[i + 1] == A.node_id and not wanted[id] then
    redis.call('HDEL', K.members, id)
    redis.call('HDEL', K.owners, id)
    redis.call('PUBLISH', A.channel, '\\n{"type":"member_left","room":' .. A.room_json .. ',"id":' .. cjson.encode(id) .. '}')
  end
end
if count > 0 then redis.call('SADD', K.node_rooms, A.room) else redis.call('SREM', K.node_rooms, A.room) end
touch_room()
local recovered, messages = replay(epoch, seq, A.since, A.since_epoch, 0)
return { epoch, seq, recovered, redis.call('HVALS', K.members), messages, idle_over() }
`,
  reply: (r): SyncReply => {
    if (r.is('fenced')) return FENCED
    if (r.is('unseeded')) return UNSEEDED
    const [epoch, seq, recovered] = [r.string(), r.int(), recoveredOf(r)]
    const [members, replay, idleOver] = [parseMembers(r.strings()), parseHistory(r.strings()), r.flag()]
    return { ok: true, snapshot: { epoch, seq, recovered, members, replay }, idleOver }
  },
})

/** The sync script bound to one connection. */
export function syncScript(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
  const run = bindScript(redis, SYNC)
  /** Make this node's members of `room` in Redis exactly `local`, and read what a catch-up needs. */
  return async function sync(
    scope: NodeScope,
    room: string,
    local: Iterable<Member>,
    position: Position | undefined,
    seed?: Seed,
  ): Promise<SyncReply> {
    const rest: string[] = []
    let count = 0
    for (const member of local) {
      count++
      rest.push(
        member.id,
        JSON.stringify(member),
        JSON.stringify({ type: 'member_joined', room, member }),
        JSON.stringify({ type: 'presence', room, id: member.id, state: member.presence ?? null }),
      )
    }
    return run(
      {
        ...roomScriptKeys(keys, room),
        node_rooms: keys.nodeRooms(scope.nodeId),
        node: keys.node(scope.nodeId),
      },
      {
        room,
        channel: keys.roomChannel(room),
        node_id: scope.nodeId,
        generation: scope.generation,
        room_json: JSON.stringify(room),
        ...freshEpoch(room, seed),
        since: position?.since ?? '',
        since_epoch: position?.epoch ?? '',
        ...idleArgs(limits),
        count,
      },
      rest,
    )
  }
}
