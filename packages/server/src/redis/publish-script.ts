import type { Redis } from 'ioredis'
import type { PublishInput } from '../adapter'
import type { KeyLayout } from './keys'
import { APPEND_HISTORY, bindScript, defineScript, ENSURE_STATE, FENCE, TOUCH_ROOM } from './lua'
import {
  FENCED,
  type Fenced,
  freshEpoch,
  IDLE_KEYS,
  idleArgs,
  type NodeScope,
  ROOM_KEYS,
  type RoomLimits,
  roomScriptKeys,
} from './script-shared'

/** What a publish script answered. */
export type PublishReply =
  | { ok: true; epoch: string; seq: number; duplicate: boolean; idleOver: boolean }
  | Fenced

const PUBLISH = defineScript({
  name: 'roomwirePublish',
  keys: [...ROOM_KEYS, ...IDLE_KEYS, 'node'],
  args: [
    'room',
    'channel',
    'head',
    'tail',
    'skip',
    'id',
    'history_size',
    'history_max_bytes',
    'epoch',
    'reset_frame',
    'seed',
    'idle_ms',
    'max_idle_rooms',
    'max_idle_bytes',
    'generation',
  ],
  // The frame is head .. seq .. tail (see publishFrame).
  lua: `${FENCE}${ENSURE_STATE}${TOUCH_ROOM}${APPEND_HISTORY}
if not registered() then return 'fenced' end
local epoch = ensure_state()
if A.id ~= '' and tonumber(A.history_size) > 0 then
  local original = redis.call('ZSCORE', K.ids, A.id)
  if original then return { epoch, tonumber(original), 1, 0 } end
end
local seq = redis.call('HINCRBY', K.state, 'seq', 1)
local frame = A.head .. seq .. A.tail
local payload = A.skip .. '\\n' .. frame
append_history(seq, payload, #frame, A.id)
redis.call('PUBLISH', A.channel, payload)
local over = 0
if redis.call('HLEN', K.members) == 0 then
  touch_room()
  over = idle_over()
end
return { epoch, seq, 0, over }
`,
  reply: (r): PublishReply => {
    if (r.is('fenced')) return FENCED
    const [epoch, seq, duplicate, idleOver] = [r.string(), r.int(), r.flag(), r.flag()]
    return { ok: true, epoch, seq, duplicate, idleOver }
  },
})

/**
 * A publish's frame around the seq the script assigns: the script stores and sends `head + seq + tail`,
 * so the data is serialized once, here, and never parsed in Redis.
 */
export function publishFrame(room: string, input: PublishInput): { head: string; tail: string } {
  const head =
    `{"type":"message","room":${JSON.stringify(room)},"event":${JSON.stringify(input.event)},` +
    `"data":${JSON.stringify(input.data) ?? 'null'},"from":${JSON.stringify(input.from)},"seq":`
  const id = input.id === undefined ? '' : `,"id":${JSON.stringify(input.id)}`
  return { head, tail: `,"ts":${JSON.stringify(input.ts)}${id}}` }
}

/** The publish script bound to one connection. */
export function publishScript(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
  const run = bindScript(redis, PUBLISH)
  /** Assign the next seq, keep the message in the history, send it; or find it by its id. */
  return async function publish(scope: NodeScope, room: string, input: PublishInput): Promise<PublishReply> {
    return run(
      { ...roomScriptKeys(keys, room), node: keys.node(scope.nodeId) },
      {
        room,
        channel: keys.roomChannel(room),
        ...publishFrame(room, input),
        skip: input.skip ?? '',
        id: input.id ?? '',
        history_size: limits.historySize,
        history_max_bytes: limits.historyMaxBytes,
        ...freshEpoch(room),
        ...idleArgs(limits),
        generation: scope.generation,
      },
    )
  }
}
