import type { Redis } from 'ioredis'
import { ScriptReply } from './script-reply'

/**
 * A Lua script with its KEYS and ARGV named once, in order, and its reply read once, beside the `return`
 * that makes it. The script reads its inputs as `K.name` and `A.name` (a prologue made from these lists
 * binds them), and its caller passes them by name, so the order is written in exactly one place.
 * Arguments after the named ones (a variable-length tail) are `ARGV[REST + i]`, i from 1.
 */
export interface ScriptSpec<K extends string, A extends string, R> {
  /** The command name ioredis defines it under (EVALSHA, with EVAL when the script is not cached). */
  readonly name: string
  readonly keys: readonly K[]
  readonly args: readonly A[]
  readonly lua: string
  /** Parse the reply, field by field in the order the Lua returns them; another shape throws (a bug). */
  readonly reply: (reply: ScriptReply) => R
}

/** A script bound to one Redis connection, called with its keys and arguments by name. */
export type ScriptCall<K extends string, A extends string, R> = (
  keys: Readonly<Record<K, string>>,
  args: Readonly<Record<A, string | number>>,
  rest?: readonly (string | number)[],
) => Promise<R>

/** Declare a script (see {@link ScriptSpec}); names must be Lua identifiers. */
export function defineScript<const K extends string, const A extends string, R>(
  spec: ScriptSpec<K, A, R>,
): ScriptSpec<K, A, R> {
  return spec
}

/** Define `spec` on `redis` and return its call, which resolves to the parsed reply. */
export function bindScript<K extends string, A extends string, R>(
  redis: Redis,
  spec: ScriptSpec<K, A, R>,
): ScriptCall<K, A, R> {
  const bind = (names: readonly string[], source: string) =>
    names.map((name, i) => `${name} = ${source}[${i + 1}]`).join(', ')
  const prologue =
    `local K = { ${bind(spec.keys, 'KEYS')} }\n` +
    `local A = { ${bind(spec.args, 'ARGV')} }\n` +
    `local REST = ${spec.args.length}\n`
  redis.defineCommand(spec.name, { numberOfKeys: spec.keys.length, lua: prologue + spec.lua })
  const command = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[
    spec.name
  ]!.bind(redis)
  return async (keys, args, rest = []) => {
    const raw = await command(
      ...spec.keys.map((name) => keys[name]),
      ...spec.args.map((name) => args[name]),
      ...rest,
    )
    return spec.reply(new ScriptReply(spec.name, raw))
  }
}

/** `now_ms()`: Redis's clock in ms, the clock of every TTL (never a node's). */
export const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

/**
 * `registered()`: whether K.node holds A.generation, this node's current registration. A node that lost it
 * (its key lapsed and it was reaped, or it registered again since) changes nothing: a command it gave up
 * on that reaches Redis late is fenced off (issue 13: a late heartbeat re-created a reaped node).
 */
export const FENCE = `
local function registered()
  return redis.call('GET', K.node) == A.generation
end
`

/**
 * `ensure_state()`: the room's epoch and seq, creating its state when it has none and telling every node
 * with A.reset_frame on A.channel. A.seed says where a new state starts: '' at seq 0 of A.epoch (a fresh
 * epoch); a seq, at that seq of A.epoch (the history store's head, issue 18: a Redis flush continues the
 * room); 'ask', nowhere: it returns nil and changes nothing, and the caller reads the store's head and runs
 * the script again with it. `base` is the seq the state started at: what is at or below it was never in
 * this state's history. Needs the room's K.state, K.hist and K.ids.
 */
export const ENSURE_STATE = `
local function ensure_state()
  local epoch = redis.call('HGET', K.state, 'epoch')
  if epoch then return epoch, tonumber(redis.call('HGET', K.state, 'seq')) end
  if A.seed == 'ask' then return nil, 0 end
  -- A history without its state (only half the keys were lost) belongs to the state that is gone.
  redis.call('DEL', K.hist, K.ids)
  local seq = tonumber(A.seed) or 0
  redis.call('HSET', K.state, 'epoch', A.epoch, 'seq', seq, 'base', seq, 'bytes', 0)
  redis.call('PUBLISH', A.channel, '\\n' .. A.reset_frame)
  return A.epoch, seq
end
`

/**
 * `touch_room()`: an empty room gets the idle TTL (A.idle_ms) on every key and an entry in the idle index;
 * a room with members loses both. `idle_over()`: whether the idle index is past A.max_idle_rooms or
 * A.max_idle_bytes (the caller then sweeps, see idle-rooms.ts). Needs K.rooms and the idle keys.
 */
export const TOUCH_ROOM = `${NOW}
local ROOM_KEYS = { 'state', 'hist', 'ids', 'members', 'owners' }
local function forget_idle(room)
  if redis.call('ZREM', K.idle, room) == 0 then return end
  redis.call('DECRBY', K.idle_total, tonumber(redis.call('HGET', K.idle_bytes, room) or '0'))
  redis.call('HDEL', K.idle_bytes, room)
end
local function touch_room()
  if redis.call('HLEN', K.members) == 0 then
    redis.call('SREM', K.rooms, A.room)
    for _, name in ipairs(ROOM_KEYS) do redis.call('PEXPIRE', K[name], A.idle_ms) end
    local bytes = tonumber(redis.call('HGET', K.state, 'bytes') or '0')
    local counted = tonumber(redis.call('HGET', K.idle_bytes, A.room) or '0')
    redis.call('ZADD', K.idle, now_ms(), A.room)
    redis.call('HSET', K.idle_bytes, A.room, bytes)
    redis.call('INCRBY', K.idle_total, bytes - counted)
  else
    redis.call('SADD', K.rooms, A.room)
    for _, name in ipairs(ROOM_KEYS) do redis.call('PERSIST', K[name]) end
    forget_idle(A.room)
  end
end
local function idle_over()
  if redis.call('ZCARD', K.idle) > tonumber(A.max_idle_rooms) then return 1 end
  if tonumber(redis.call('GET', K.idle_total) or '0') > tonumber(A.max_idle_bytes) then return 1 end
  return 0
end
`

/**
 * `replay(since, since_epoch, history)`, for a join or a catch-up (PROTOCOL.md, "Joining"): without
 * `since`, the last `history`; with it, every message after it when all are held (recovered 1), else every
 * message still held of this epoch, after `since` when the epoch is the same (recovered 0). Newest first,
 * like the history, which always ends at the room's seq without gaps.
 */
export const REPLAY = `
local function replay(epoch, seq, since, since_epoch, history)
  if since == '' then
    if history > 0 then return -1, redis.call('LRANGE', K.hist, 0, history - 1) end
    return -1, {}
  end
  local s = tonumber(since)
  local held = redis.call('LLEN', K.hist)
  if since_epoch == epoch and s <= seq then
    local missing = seq - s
    if missing <= held then
      if missing > 0 then return 1, redis.call('LRANGE', K.hist, 0, missing - 1) end
      return 1, {}
    end
  end
  return 0, redis.call('LRANGE', K.hist, 0, held - 1)
end
`

/**
 * `append_history(seq, payload, frame_bytes, id)`: keep the message in the history, at most
 * A.history_size messages and A.history_max_bytes bytes of frames (the oldest go first), with the id
 * index holding exactly the ids of held messages. A message larger than the whole budget empties the
 * history instead: what is held must end at the room's seq without a gap.
 */
export const APPEND_HISTORY = `
local function history_bytes()
  local bytes = redis.call('HGET', K.state, 'bytes')
  if bytes then return tonumber(bytes) end
  -- A history kept before the byte budget existed: count it once.
  local total = 0
  for _, p in ipairs(redis.call('LRANGE', K.hist, 0, -1)) do
    total = total + #p - string.find(p, '\\n', 1, true)
  end
  return total
end
local function append_history(seq, payload, frame_bytes, id)
  local size, budget = tonumber(A.history_size), tonumber(A.history_max_bytes)
  if size <= 0 then return end
  if frame_bytes > budget then
    redis.call('DEL', K.hist, K.ids)
    redis.call('HSET', K.state, 'bytes', 0)
    return
  end
  local bytes = history_bytes() + frame_bytes
  local held = redis.call('LPUSH', K.hist, payload)
  while held > size or bytes > budget do
    local old = redis.call('RPOP', K.hist)
    bytes = bytes - (#old - string.find(old, '\\n', 1, true))
    held = held - 1
  end
  redis.call('HSET', K.state, 'bytes', bytes)
  if id ~= '' then redis.call('ZADD', K.ids, seq, id) end
  redis.call('ZREMRANGEBYSCORE', K.ids, '-inf', seq - held)
end
`
