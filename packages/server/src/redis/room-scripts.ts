import type { Redis } from 'ioredis'
import { historyPageScript } from './history-script'
import type { KeyLayout } from './keys'
import { membershipScripts } from './membership-scripts'
import { publishScript } from './publish-script'
import { relayScript } from './relay-script'
import type { RoomLimits } from './script-shared'
import { syncScript } from './sync-script'

/**
 * The scripts that change one room, bound to one connection and called by name with parsed replies. Each
 * runs atomically in Redis, so a room's seq, history, id index, membership and the PUBLISH that hands a
 * frame to every node happen in one step, in one order. Every one is fenced by this node's generation
 * (lua.ts `FENCE`): a node that lost its registration changes nothing.
 */
export function roomScripts(redis: Redis, keys: KeyLayout, limits: RoomLimits) {
  return {
    ...membershipScripts(redis, keys, limits),
    publish: publishScript(redis, keys, limits),
    sync: syncScript(redis, keys, limits),
    relay: relayScript(redis, keys, limits),
    // A read, so not fenced: it changes nothing.
    historyPage: historyPageScript(redis, keys),
  }
}

/** The room scripts of one adapter. */
export type RoomScripts = ReturnType<typeof roomScripts>
