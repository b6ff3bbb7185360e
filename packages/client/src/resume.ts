import type { JoinedMessage } from '@roomwire/protocol'
import type { ResyncInfo } from './types'

/** Where a room stood before a `joined`: its last seen (`epoch`, `seq`) and how its last connection ended. */
export interface LastSeen {
  /** null before the room's first `joined`. */
  readonly epoch: string | null
  readonly seq: number
  /** The connection the room was last joined on saw the server's `shutdown` notice before it closed. */
  readonly cleanEnd: boolean
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
 * - a new epoch, unless the replay starts at its seq 1 and the last connection saw `shutdown` (then
 *   nothing of the old epoch was acknowledged after what this client got);
 * - the same epoch with `recovered: false`, or with a replay that starts past what was seen.
 */
export function resume(last: LastSeen, joined: JoinedMessage): Resume {
  const base = joined.seq - (joined.replay ?? 0)
  if (last.epoch === null) return { seq: base, newEpoch: true, resync: null }
  if (joined.epoch !== last.epoch) {
    const clean = last.cleanEnd && base === 0
    return {
      seq: base,
      newEpoch: true,
      resync: clean ? null : { reason: 'epoch', epoch: joined.epoch, seq: base },
    }
  }
  // Same epoch: what was seen stays seen (a replay may start earlier than needed).
  const seq = Math.max(last.seq, base)
  const lost = joined.recovered === false || base > last.seq
  return { seq, newEpoch: false, resync: lost ? { reason: 'not_recovered', epoch: joined.epoch, seq } : null }
}
