import type { Logger } from 'pino'
import type { AdapterNode } from '../adapter'
import type { Clock } from '../clock'
import { isRoomServerError, RoomServerError } from '../errors'
import type { HistoryStore } from '../history-store'
import type { KeyLayout } from './keys'
import type { RoomScripts } from './room-scripts'
import type { StoreLink } from './store-link'

/** What the Redis adapter's parts share once the server attached it. */
export interface AdapterContext {
  readonly node: AdapterNode
  readonly link: StoreLink
  readonly rooms: RoomScripts
  readonly keys: KeyLayout
  readonly log: Logger | undefined
  readonly commandTimeoutMs: number
  /** The history store beside Redis (issue 18): it assigns seqs and keeps what Redis may lose. */
  readonly store: HistoryStore | undefined
  /** What a room keeps for replay (`historySize`, `historyMaxBytes`): what a join may replay from the store. */
  readonly replayLimits: { historySize: number; historyMaxBytes: number }
  /** The adapter's clock (`options.clock`): a feed's waits for a mark or a delivery time out on it. */
  readonly clock: Clock
}

/**
 * Run store work for `what`. A Redis error is `adapter_failed`; anything else (a timeout, a closed
 * connection) is `unavailable`, and makes the link probe itself at once.
 */
export async function runStore<T>(link: StoreLink, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (isRoomServerError(err)) throw err
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof Error && err.name === 'ReplyError') {
      throw new RoomServerError('adapter_failed', `${what} failed in Redis: ${message}`, { cause: err })
    }
    link.suspect()
    throw new RoomServerError(
      'unavailable',
      `${what} refused: the cluster store (Redis) is unavailable (${message}); retry shortly`,
      { cause: err },
    )
  }
}

/** A script refused this node's generation: nothing changed, and the node registers again. */
export function fencedError(link: StoreLink, what: string): RoomServerError {
  link.lapsed()
  return link.unavailable(what)
}
