import { RoomServerError } from './errors'
import type { MemoryRooms } from './memory-rooms'
import { checkRoomSnapshots, type RestoredFrame, type RoomSnapshot, restoredFrames } from './room-snapshot'

/** A restored room that cannot be used: the server must not start on half of what it saved. */
function badSnapshot(fault: string): RoomServerError {
  return new RoomServerError('invalid_config', `the memory adapter cannot restore its rooms: ${fault}`)
}

/**
 * Bring back the rooms a graceful close saved, as idle rooms, the one empty longest first, with their
 * epoch, seq, history and the rest of their idle timeout; rooms whose timeout ran out meanwhile are not.
 * Throws `invalid_config` on anything malformed, before any room is restored.
 */
export function restoreRooms(
  rooms: MemoryRooms,
  snapshots: readonly RoomSnapshot[],
  now: number,
  idleTimeoutMs: number,
): void {
  const fault = checkRoomSnapshots(snapshots)
  if (fault !== null) throw badSnapshot(fault)
  const restored: { snapshot: RoomSnapshot; idleSince: number; frames: RestoredFrame[] }[] = []
  for (const snapshot of snapshots) {
    const frames = restoredFrames(snapshot)
    if (typeof frames === 'string') throw badSnapshot(frames)
    // A clock that went back must not make a room live longer than its timeout.
    const idleSince = Math.min(snapshot.idleSince, now)
    if (idleSince + idleTimeoutMs > now) restored.push({ snapshot, idleSince, frames })
  }
  restored.sort((a, b) => a.idleSince - b.idleSince)
  for (const { snapshot, idleSince, frames } of restored) {
    rooms.restore(snapshot.room, { epoch: snapshot.epoch, seq: snapshot.seq, idleSince }, frames)
  }
}

/** Every room's state for `persist.save`; members are not kept (each comes back with a `join`). */
export function snapshotRooms(rooms: MemoryRooms, now: number): RoomSnapshot[] {
  return [...rooms.entries()].map(([room, state]) => ({
    room,
    epoch: state.epoch,
    seq: state.seq,
    history: state.history.last(state.history.size),
    idleSince: state.members.size === 0 ? state.idleSince : now,
  }))
}
