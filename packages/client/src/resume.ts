import type { JoinedMessage } from '@roomwire/protocol'
import type { ResyncInfo } from './room-types'

/** Where a room stood before a `joined`: its last seen (`epoch`, `seq`). */
export interface LastSeen {
  /** null before the room's first `joined`. */
  readonly epoch: string | null
  readonly seq: number
}

/** What a `joined` means for the room: its new last seen `seq`, whether the epoch changed, and a resync. */
export interface Resume {
  readonly seq: number
  readonly newEpoch: boolean
  readonly resync: ResyncInfo | null
}

/**
 * The rules of PROTOCOL.md ("What an SDK client does") for a `joined`: last seen becomes
 * `joined.seq - joined.replay`, since the replay fills it up to `joined.seq`; `resync` only when
 * messages may really be gone:
 * - a new epoch, always: the client cannot tell from its side whether the new epoch directly follows
 *   the one it saw, or other epochs lived and died while it was away (issue 13; a server that restarts
 *   without losing anything keeps the room's epoch);
 * - the same epoch with `recovered: false`, or with a replay that starts past what was seen.
 */
export function resume(last: LastSeen, joined: JoinedMessage): Resume {
  // Never below 0: a server claiming a replay longer than its seq made the gap rejoin send since -7.
  const base = Math.max(0, joined.seq - (joined.replay ?? 0))
  if (last.epoch === null) return { seq: base, newEpoch: true, resync: null }
  if (joined.epoch !== last.epoch) {
    return { seq: base, newEpoch: true, resync: { reason: 'epoch', epoch: joined.epoch, seq: base } }
  }
  // Same epoch: what was seen stays seen (a replay may start earlier than needed).
  const seq = Math.max(last.seq, base)
  const lost = joined.recovered === false || base > last.seq
  return { seq, newEpoch: false, resync: lost ? { reason: 'not_recovered', epoch: joined.epoch, seq } : null }
}
