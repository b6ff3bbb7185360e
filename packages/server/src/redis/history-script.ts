import type { Redis } from 'ioredis'
import { parseHistory } from './frames'
import type { KeyLayout } from './keys'
import { bindScript, defineScript } from './lua'

/** What the history page script answered: nothing when the room has no state in Redis. */
export type HistoryPageReply = { epoch: string; frames: string[]; more: boolean } | null

const HISTORY_PAGE = defineScript({
  name: 'roomwireHistoryPage',
  keys: ['state', 'hist'],
  args: ['before', 'limit'],
  // The list is newest first and ends at the room's seq without gaps: entry i is seq `seq - i`.
  reply: (reply): HistoryPageReply => {
    if (reply.is('none')) return null
    const epoch = reply.string()
    const entries = reply.strings()
    const more = reply.flag()
    return { epoch, frames: parseHistory(entries).map((f) => f.encoded), more }
  },
  lua: `
local state = redis.call('HMGET', K.state, 'epoch', 'seq')
if not state[1] then return 'none' end
local seq = tonumber(state[2]) or 0
local top = seq
local before = tonumber(A.before)
if before > 0 and before - 1 < top then top = before - 1 end
local held = redis.call('LLEN', K.hist)
local first = seq - top
if top < 1 or first >= held then return { state[1], {}, 0 } end
local entries = redis.call('LRANGE', K.hist, first, first + tonumber(A.limit) - 1)
local more = 0
if first + #entries < held then more = 1 end
return { state[1], entries, more }
`,
})

/** The history page script bound to one connection. A read: it needs no fence. */
export function historyPageScript(redis: Redis, keys: KeyLayout) {
  const run = bindScript(redis, HISTORY_PAGE)
  /** The room's held messages below `before` (absent: the newest), at most `limit`, oldest first. */
  return async function historyPage(
    room: string,
    before: number | undefined,
    limit: number,
  ): Promise<HistoryPageReply> {
    const { state, hist } = keys.room(room)
    return run({ state, hist }, { before: before ?? 0, limit })
  }
}
