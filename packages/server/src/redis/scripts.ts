/**
 * The Lua scripts of the Redis adapter. Each runs atomically in Redis, so a room's seq, history, id index,
 * membership and the PUBLISH that hands a frame to every node happen in one step, in one order.
 *
 * Room keys (see keys.ts): KEYS[1] state (hash: epoch, seq), KEYS[2] hist (list, newest first, of
 * `skip\nframe`), KEYS[3] ids (zset id -> seq), KEYS[4] members (hash id -> member JSON), KEYS[5] owners
 * (hash id -> node id). Frames on a room channel are `skip\nframe`, skip empty when nobody is skipped.
 */

/** Create the room's state with a fresh epoch when it has none, and tell every node with a `reset`. */
const ENSURE_STATE = `
local function ensure_state(state, channel, epoch_candidate, reset_frame)
  local epoch = redis.call('HGET', state, 'epoch')
  if epoch then return epoch, tonumber(redis.call('HGET', state, 'seq')) end
  redis.call('HSET', state, 'epoch', epoch_candidate, 'seq', 0)
  redis.call('PUBLISH', channel, '\\n' .. reset_frame)
  return epoch_candidate, 0
end
`

/** Give every key of an empty room the idle TTL, or take it away while the room has members. */
const TOUCH_ROOM = `
local function touch_room(keys, rooms, room, idle_ms)
  if redis.call('HLEN', keys[4]) == 0 then
    redis.call('SREM', rooms, room)
    for i = 1, 5 do redis.call('PEXPIRE', keys[i], idle_ms) end
  else
    redis.call('SADD', rooms, room)
    for i = 1, 5 do redis.call('PERSIST', keys[i]) end
  end
end
`

/**
 * Replay for a join or a catch-up (PROTOCOL.md, "Joining"): without `since`, the last `history`; with it,
 * every message after it when all are held (recovered 1), else every message still held of this epoch,
 * after `since` when the epoch is the same (recovered 0). The list is newest first, like the history.
 */
const REPLAY = `
local function replay(hist, epoch, seq, since, since_epoch, history)
  if since == '' then
    if history > 0 then return -1, redis.call('LRANGE', hist, 0, history - 1) end
    return -1, {}
  end
  local s = tonumber(since)
  local held = redis.call('LLEN', hist)
  if since_epoch == epoch and s <= seq then
    local missing = seq - s
    if missing <= held then
      if missing > 0 then return 1, redis.call('LRANGE', hist, 0, missing - 1) end
      return 1, {}
    end
    return 0, redis.call('LRANGE', hist, 0, held - 1)
  end
  return 0, redis.call('LRANGE', hist, 0, held - 1)
end
`

/**
 * KEYS: state hist ids members owners rooms node_rooms.
 * ARGV: room channel member_id member_json node_id max_members epoch_candidate reset_frame since
 * since_epoch history joined_frame mark. The mark (`#mark`) is published last: once the joining node
 * receives it, it has received every frame published before this script.
 * Returns { epoch, seq, rejoined (0/1), recovered (-1 none, 0, 1), members JSON[], replay[] | 'full' }.
 */
export const JOIN_SCRIPT = `${ENSURE_STATE}${TOUCH_ROOM}${REPLAY}
local room, channel, id = ARGV[1], ARGV[2], ARGV[3]
local epoch, seq = ensure_state(KEYS[1], channel, ARGV[7], ARGV[8])
local rejoined = redis.call('HEXISTS', KEYS[4], id)
if rejoined == 0 then
  if redis.call('HLEN', KEYS[4]) >= tonumber(ARGV[6]) then return 'full' end
  redis.call('HSET', KEYS[4], id, ARGV[4])
  redis.call('HSET', KEYS[5], id, ARGV[5])
  redis.call('SADD', KEYS[7], room)
  touch_room(KEYS, KEYS[6], room, 0)
  redis.call('PUBLISH', channel, id .. '\\n' .. ARGV[12])
end
local recovered, messages = replay(KEYS[2], epoch, seq, ARGV[9], ARGV[10], tonumber(ARGV[11]))
redis.call('PUBLISH', channel, '#' .. ARGV[13])
return { epoch, seq, rejoined, recovered, redis.call('HVALS', KEYS[4]), messages }
`

/**
 * KEYS: state hist ids members owners rooms.
 * ARGV: room channel head tail skip id history_size epoch_candidate reset_frame idle_ms.
 * The frame is head .. seq .. tail. Returns { epoch, seq, duplicate (0/1) }.
 */
export const PUBLISH_SCRIPT = `${ENSURE_STATE}${TOUCH_ROOM}
local room, channel, id = ARGV[1], ARGV[2], ARGV[6]
local size = tonumber(ARGV[7])
local epoch = ensure_state(KEYS[1], channel, ARGV[8], ARGV[9])
if id ~= '' and size > 0 then
  local original = redis.call('ZSCORE', KEYS[3], id)
  if original then return { epoch, tonumber(original), 1 } end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local payload = ARGV[5] .. '\\n' .. ARGV[3] .. seq .. ARGV[4]
if size > 0 then
  redis.call('LPUSH', KEYS[2], payload)
  redis.call('LTRIM', KEYS[2], 0, size - 1)
  if id ~= '' then redis.call('ZADD', KEYS[3], seq, id) end
  -- The id index never outlives the history: an id whose message was trimmed may be published again.
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', seq - size)
end
redis.call('PUBLISH', channel, payload)
if redis.call('HLEN', KEYS[4]) == 0 then touch_room(KEYS, KEYS[6], room, tonumber(ARGV[10])) end
return { epoch, seq, 0 }
`

/**
 * KEYS: state hist ids members owners rooms. ARGV: room channel member_id left_frame idle_ms.
 * Returns 1 when the member was removed, 0 when it was not a member.
 */
export const LEAVE_SCRIPT = `${TOUCH_ROOM}
local room, channel, id = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HDEL', KEYS[4], id) == 0 then return 0 end
redis.call('HDEL', KEYS[5], id)
redis.call('PUBLISH', channel, '\\n' .. ARGV[4])
touch_room(KEYS, KEYS[6], room, tonumber(ARGV[5]))
return 1
`

/** KEYS: members. ARGV: channel member_id member_json presence_frame. Returns 1, or 0 if not a member. */
export const PRESENCE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\n' .. ARGV[4])
return 1
`

/**
 * Remove every member a dead node owned in one room and announce each `member_left` once: the HDEL and
 * the PUBLISH are one atomic step, so two nodes reaping the same dead node never announce twice.
 * KEYS: state hist ids members owners rooms dead_node_key. ARGV: room channel dead_node room_json
 * idle_ms. Returns the removed ids.
 */
export const REAP_SCRIPT = `${TOUCH_ROOM}
local room, channel, dead = ARGV[1], ARGV[2], ARGV[3]
-- A node that came back before this ran keeps its members (it re-registers them itself).
if redis.call('EXISTS', KEYS[7]) == 1 then return {} end
local owners = redis.call('HGETALL', KEYS[5])
local removed = {}
for i = 1, #owners, 2 do
  if owners[i + 1] == dead then
    local id = owners[i]
    redis.call('HDEL', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('PUBLISH', channel, '\\n{"type":"member_left","room":' .. ARGV[4] .. ',"id":' .. cjson.encode(id) .. '}')
    removed[#removed + 1] = id
  end
end
if #removed > 0 then touch_room(KEYS, KEYS[6], room, tonumber(ARGV[5])) end
return removed
`

/**
 * Make this node's membership of a room in Redis exactly its local members (after an outage, a lapsed
 * heartbeat or a lost store), announcing what changes, and return what a catch-up needs.
 * KEYS: state hist ids members owners rooms node_rooms.
 * ARGV: room channel node_id room_json epoch_candidate reset_frame idle_ms since since_epoch count,
 * then count triples (member_id member_json joined_frame).
 * Returns { epoch, seq, recovered (-1, 0, 1), members JSON[], replay[] }.
 */
export const SYNC_SCRIPT = `${ENSURE_STATE}${TOUCH_ROOM}${REPLAY}
local room, channel, node = ARGV[1], ARGV[2], ARGV[3]
local count = tonumber(ARGV[10])
local exists = redis.call('EXISTS', KEYS[1]) == 1
if not exists and count == 0 then return { '', 0, 0, {}, {} } end
local epoch, seq = ensure_state(KEYS[1], channel, ARGV[5], ARGV[6])
local wanted = {}
for i = 0, count - 1 do
  local id, json, frame = ARGV[11 + i * 3], ARGV[12 + i * 3], ARGV[13 + i * 3]
  wanted[id] = true
  if redis.call('HEXISTS', KEYS[4], id) == 0 then
    redis.call('HSET', KEYS[4], id, json)
    redis.call('PUBLISH', channel, id .. '\\n' .. frame)
  end
  redis.call('HSET', KEYS[5], id, node)
end
local owners = redis.call('HGETALL', KEYS[5])
for i = 1, #owners, 2 do
  local id = owners[i]
  if owners[i + 1] == node and not wanted[id] then
    redis.call('HDEL', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('PUBLISH', channel, '\\n{"type":"member_left","room":' .. ARGV[4] .. ',"id":' .. cjson.encode(id) .. '}')
  end
end
if count > 0 then redis.call('SADD', KEYS[7], room) end
touch_room(KEYS, KEYS[6], room, tonumber(ARGV[7]))
local recovered, messages = replay(KEYS[2], epoch, seq, ARGV[8], ARGV[9], 0)
return { epoch, seq, recovered, redis.call('HVALS', KEYS[4]), messages }
`

/**
 * Refresh this node's heartbeat key. KEYS: node_key nodes. ARGV: node_id ttl_ms.
 * Returns 1 when the key was still there, 0 when it had lapsed (other nodes may have reaped this one).
 */
export const HEARTBEAT_SCRIPT = `
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 1 then return 1 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return 0
`

/** KEYS: conns. ARGV: target_id node_id prefix payload. Returns how many nodes received it (0 when gone). */
export const DIRECT_SCRIPT = `
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner or owner == ARGV[2] then return 0 end
return redis.call('PUBLISH', ARGV[3] .. 'node:' .. owner, ARGV[1] .. '\\n' .. ARGV[4])
`

/**
 * Forget a dead node once its rooms were reaped: its connections (for direct messages) and its sets.
 * KEYS: node_key node_rooms node_conns conns nodes. ARGV: node_id. Returns 0 if the node came back.
 */
export const FORGET_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('HGET', KEYS[4], id) == ARGV[1] then redis.call('HDEL', KEYS[4], id) end
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[5], ARGV[1])
return 1
`
