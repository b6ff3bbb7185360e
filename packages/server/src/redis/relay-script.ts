import type { Redis } from 'ioredis'
import type { KeyLayout } from './keys'
import { APPEND_HISTORY, bindScript, defineScript, FENCE, TOUCH_ROOM } from './lua'
import {
  FENCED,
  type Fenced,
  IDLE_KEYS,
  idleArgs,
  type NodeScope,
  ROOM_KEYS,
  type RoomLimits,
  roomScriptKeys,
} from './script-shared'

/** A message the history store committed, to hand to every node. */
export interface RelayFrame {
  seq: number
  /** Its message id, or '' (for the id index beside the history). */
  id: string
  /** The connection that must not get it, or ''. */
  skip: string
  /** The `message` frame's JSON. */
  encoded: string
}

/**
 * What a relay script answered: `seq`, the room's seq in Redis after it; `gap` when a frame came before
 * the ones between the room's seq and it (they were committed, by another node, and not relayed yet):
 * the frames from it on were not relayed.
 */
export type RelayReply = { ok: true; seq: number; gap: boolean; idleOver: boolean } | Fenced

const RELAY = defineScript({
  name: 'roomwireRelay',
  keys: [...ROOM_KEYS, ...IDLE_KEYS, 'node'],
  // Then `count` quadruples: seq id skip frame, in seq order.
  args: [
    'room',
    'room_json',
    'channel',
    'epoch',
    'history_size',
    'history_max_bytes',
    'idle_ms',
    'max_idle_rooms',
    'max_idle_bytes',
    'generation',
    'count',
  ],
  // With a history store the store assigns seqs (issue 18); Redis keeps the seq the room's members have
  // been handed, and hands on frames in that order. A state the store's epoch does not match (Redis lost
  // the room, or made one of its own meanwhile) starts again at the first frame: the store is the truth.
  // Frames at or below the state's `base` (committed before Redis lost the room) are published but not
  // kept: the history must end at the seq without a gap, and a node that has them drops them by seq.
  lua: `${FENCE}${TOUCH_ROOM}${APPEND_HISTORY}
if not registered() then return 'fenced' end
local count = tonumber(A.count)
local first = tonumber(ARGV[REST + 1])
local epoch = redis.call('HGET', K.state, 'epoch')
if epoch ~= A.epoch then
  redis.call('DEL', K.hist, K.ids)
  redis.call('HSET', K.state, 'epoch', A.epoch, 'seq', first - 1, 'base', first - 1, 'bytes', 0)
  redis.call('PUBLISH', A.channel, '\\n{"type":"reset","room":' .. A.room_json .. ',"epoch":' .. cjson.encode(A.epoch) .. ',"seq":' .. (first - 1) .. '}')
end
local seq = tonumber(redis.call('HGET', K.state, 'seq'))
local base = tonumber(redis.call('HGET', K.state, 'base') or '0')
local gap = 0
for i = 0, count - 1 do
  local n = tonumber(ARGV[REST + i * 4 + 1])
  local frame = ARGV[REST + i * 4 + 4]
  local payload = ARGV[REST + i * 4 + 3] .. '\\n' .. frame
  if n <= base then
    redis.call('PUBLISH', A.channel, payload)
  elseif n == seq + 1 then
    append_history(n, payload, #frame, ARGV[REST + i * 4 + 2])
    redis.call('HSET', K.state, 'seq', n)
    redis.call('PUBLISH', A.channel, payload)
    seq = n
  elseif n > seq + 1 then
    gap = 1
    break
  end
end
local over = 0
if redis.call('HLEN', K.members) == 0 then
  touch_room()
  over = idle_over()
end
return { seq, gap, over }
`,
  reply: (r): RelayReply => {
    if (r.is('fenced')) return FENCED
    const [seq, gap, idleOver] = [r.int(), r.flag(), r.flag()]
    return { ok: true, seq, gap, idleOver }
  },
})

/** The relay script bound to one connection. */
export function relayScript(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
  const run = bindScript(redis, RELAY)
  /** Hand committed frames of `epoch` (ascending seqs) to every node, in the room's order. */
  return async function relay(
    scope: NodeScope,
    room: string,
    epoch: string,
    frames: readonly RelayFrame[],
  ): Promise<RelayReply> {
    const rest: (string | number)[] = []
    for (const f of frames) rest.push(f.seq, f.id, f.skip, f.encoded)
    return run(
      { ...roomScriptKeys(keys, room), node: keys.node(scope.nodeId) },
      {
        room,
        room_json: JSON.stringify(room),
        channel: keys.roomChannel(room),
        epoch,
        history_size: limits.historySize,
        history_max_bytes: limits.historyMaxBytes,
        ...idleArgs(limits),
        generation: scope.generation,
        count: frames.length,
      },
      rest,
    )
  }
}
