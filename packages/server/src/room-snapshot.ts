import { EpochSchema, RoomNameSchema } from '@roomwire/protocol'

/**
 * One room's state as the memory adapter keeps it across a graceful restart: what a client's
 * `since` and `epoch` are measured against. Members are not in it: at a graceful close every member
 * has left, and each comes back with its own `join`.
 */
export interface RoomSnapshot {
  /** The room's name. */
  readonly room: string
  /** The room's epoch: kept, so a client's `since` in it stays meaningful after the restart. */
  readonly epoch: string
  /** The room's latest `seq`. */
  readonly seq: number
  /**
   * The room's history: its encoded `message` frames (the JSON text as first sent), oldest first, ending
   * at `seq` (seq `seq - history.length + 1` to `seq`).
   */
  readonly history: readonly string[]
  /**
   * When the room last became empty (the server's clock, epoch milliseconds): its idle timeout
   * (`idleTimeoutMs`) goes on from there after the restart instead of starting again.
   */
  readonly idleSince: number
}

/**
 * Where the memory adapter keeps its rooms between two processes (`createMemoryAdapter({ persist })`);
 * {@link fileState} is one. The adapter calls `load` once, at attach, and `save` once, from its
 * `close()`, which the server calls only at the end of a graceful `close()`: after the `shutdown`
 * notice and after every publish it accepted was acknowledged, so nothing is acknowledged after what
 * is saved. A crash calls neither. A `load` must never hand the same snapshot to two processes: after a
 * restore, a crash must start new epochs (fileState deletes its file as it reads it).
 */
export interface RoomPersistence {
  /** The rooms the last graceful close saved, or undefined when there are none. */
  load(): readonly RoomSnapshot[] | undefined | Promise<readonly RoomSnapshot[] | undefined>
  /** Keep these rooms for the next process's `load`. */
  save(rooms: readonly RoomSnapshot[]): void | Promise<void>
}

/** A description of a value for an error message: never the value itself (it may be large). */
function kind(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  return typeof value === 'string' ? `a string of ${value.length} characters` : `a ${typeof value}`
}

/**
 * Check the shape of what a {@link RoomPersistence} loaded: a list of {@link RoomSnapshot}s, each room
 * once. Returns a sentence naming the first fault, or null. The frames themselves are checked as the
 * adapter restores them ({@link restoredFrames}).
 */
export function checkRoomSnapshots(value: unknown): string | null {
  if (!Array.isArray(value)) return `expected a list of rooms, got ${kind(value)}`
  const seen = new Set<string>()
  for (const [i, entry] of value.entries()) {
    const at = `room #${i + 1}`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      return `${at} is ${kind(entry)}, not an object`
    }
    const { room, epoch, seq, history, idleSince } = entry as Record<string, unknown>
    if (!RoomNameSchema.safeParse(room).success) return `${at} has no valid room name`
    const name = `room "${room as string}"`
    if (seen.has(room as string)) return `${name} is listed twice`
    seen.add(room as string)
    if (!EpochSchema.safeParse(epoch).success) return `${name} has no valid epoch`
    if (!Number.isSafeInteger(seq) || (seq as number) < 0) return `${name} has no valid seq`
    if (!Array.isArray(history) || !history.every((frame) => typeof frame === 'string')) {
      return `${name} has no history list of frames`
    }
    if (history.length > (seq as number)) {
      return `${name} holds ${history.length} messages of history but its seq is ${seq as number}`
    }
    if (typeof idleSince !== 'number' || !Number.isFinite(idleSince)) return `${name} has no valid idleSince`
  }
  return null
}

/** A restored history frame with the message id the publish dedupe needs. */
export interface RestoredFrame {
  readonly seq: number
  readonly text: string
  readonly id: string | undefined
}

/**
 * A snapshot's history as the adapter pushes it back into the room's ring: each frame must be the
 * `message` of this room with the seq its place says. Returns the frames, or a sentence naming the first
 * fault (a frame replayed to clients as is must be what it claims to be).
 */
export function restoredFrames(snapshot: RoomSnapshot): RestoredFrame[] | string {
  const first = snapshot.seq - snapshot.history.length + 1
  const frames: RestoredFrame[] = []
  for (const [i, text] of snapshot.history.entries()) {
    const seq = first + i
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch {
      return `room "${snapshot.room}": history frame of seq ${seq} is not JSON`
    }
    const m = message as { type?: unknown; room?: unknown; seq?: unknown; id?: unknown } | null
    if (m === null || typeof m !== 'object' || m.type !== 'message' || m.room !== snapshot.room) {
      return `room "${snapshot.room}": history frame of seq ${seq} is not a message of this room`
    }
    if (m.seq !== seq)
      return `room "${snapshot.room}": history frame of seq ${seq} says seq ${typeof m.seq === 'number' ? m.seq : kind(m.seq)}`
    frames.push({ seq, text, id: typeof m.id === 'string' ? m.id : undefined })
  }
  return frames
}
