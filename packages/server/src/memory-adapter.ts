import type { DirectEventMessage, Member } from '@roomwire/protocol'
import { encode } from '@roomwire/protocol'
import type {
  AdapterConfig,
  AdapterNode,
  AdapterRoomInfo,
  ConnectionTarget,
  DeliverOptions,
  HistoryPageResult,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
} from './adapter'
import { type Clock, systemClock } from './clock'
import { type DurableRoom, DurableRooms, durableTrack } from './durable-rooms'
import { RoomServerError } from './errors'
import { restoreRooms, snapshotRooms } from './memory-persistence'
import { type MemoryRoom, MemoryRooms } from './memory-rooms'
import { messageFrame } from './message-frame'
import type { RoomPersistence } from './room-snapshot'

/** Options of {@link createMemoryAdapter}. Sizes are bytes. */
export interface MemoryAdapterOptions {
  /**
   * Bytes of history (encoded `message` frames) all rooms of the process may hold together; past it the
   * least recently used rooms (published to or joined) lose their oldest messages first. Each room is also
   * held to the server's `historyMaxBytes` and `historySize`.
   * @default 134_217_728 (128 MiB)
   */
  maxHistoryBytes?: number
  /**
   * Rooms without members kept for resume (each for the server's `idleTimeoutMs`); past it the room that
   * has been empty longest is freed first. A client that comes back to a freed room gets a new epoch and
   * `recovered: false`, as after a restart.
   * @default 10_000
   */
  maxIdleRooms?: number
  /**
   * Keep every room's epoch, seq and history across a graceful restart ({@link fileState} keeps them in
   * a file): `load` is called once at attach, `save` once by `close()`, which the server calls only at
   * the end of a graceful `close()`. Clients that come back then resume in the same epoch with
   * `recovered: true` and get exactly what they missed. Without it a restart starts every room in a new
   * epoch, and each client that comes back gets a `resync`.
   * @default undefined (the rooms die with the process)
   */
  persist?: RoomPersistence
  /**
   * Time for idle expiry and for when a room became empty (`idleSince`, also what a snapshot keeps).
   * @default the server's `now` with the system's timers
   */
  clock?: Clock
}

/** Defaults of {@link MemoryAdapterOptions}. */
export const DEFAULT_MEMORY_ADAPTER_OPTIONS: Required<Omit<MemoryAdapterOptions, 'persist' | 'clock'>> = {
  maxHistoryBytes: 134_217_728,
  maxIdleRooms: 10_000,
}

function checkOptions(options: MemoryAdapterOptions): typeof DEFAULT_MEMORY_ADAPTER_OPTIONS {
  const resolved = { ...DEFAULT_MEMORY_ADAPTER_OPTIONS }
  for (const key of Object.keys(resolved) as (keyof typeof DEFAULT_MEMORY_ADAPTER_OPTIONS)[]) {
    const value = options[key]
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RoomServerError(
        'invalid_config',
        `memory adapter option ${key} is ${String(value)}; expected an integer above 0`,
      )
    }
    resolved[key] = value
  }
  const persist = options.persist
  if (persist !== undefined && (typeof persist.load !== 'function' || typeof persist.save !== 'function')) {
    throw new RoomServerError('invalid_config', 'memory adapter option persist needs load() and save()')
  }
  return resolved
}

const NO_STATS = { idleRooms: 0, historyBytes: 0, idleRoomsEvicted: 0, historyEvicted: 0 }

/** What exists once the server attached the adapter. */
interface Parts {
  node: AdapterNode
  rooms: MemoryRooms
  clock: Clock
  historySize: number
  /** With a history store (`AdapterConfig.historyStore`): rooms start from it and publishes commit to it. */
  durable: DurableRooms | undefined
}

/**
 * Where the adapter is in its life. While an asynchronous `persist.load()` runs, every room call waits
 * for it, in order; a load that failed leaves it `loading` for good (every call fails as the load did).
 * Only a `ready` adapter saves its rooms at close: what was restored and grew from it, so a failed
 * restore never overwrites the last save.
 */
type Lifecycle =
  | { status: 'detached' }
  | { status: 'loading'; parts: Parts; done: Promise<void> }
  | { status: 'ready'; parts: Parts }
  | { status: 'closed'; parts: Parts | undefined }

// The room calls, once attached (and any restore is done).

function join(
  { node, rooms }: Parts,
  room: string,
  member: Member,
  replay: ReplayRequest,
  maxMembers: number,
): JoinResult {
  const { state } = rooms.open(room)
  const rejoined = state.members.has(member.id)
  if (!rejoined && state.members.size >= maxMembers) return { ok: false, reason: 'room_full' }
  if (!rejoined) {
    rooms.occupied(room)
    state.members.set(member.id, member)
    node.deliver(room, { type: 'member_joined', room, member }, { skip: member.id })
  }
  const { frames, recovered } = rooms.replay(state, replay)
  const result: JoinResult = {
    ok: true,
    seq: state.seq,
    epoch: state.epoch,
    members: [...state.members.values()],
    replay: frames,
    rejoined,
  }
  if (recovered !== undefined) result.recovered = recovered
  return result
}

function leave({ node, rooms }: Parts, room: string, id: string): void {
  const state = rooms.get(room)
  if (state === undefined || !state.members.delete(id)) return
  node.deliver(room, { type: 'member_left', room, id })
  if (state.members.size === 0) rooms.vacated(room, state)
}

function setPresence({ node, rooms }: Parts, room: string, id: string, presence: unknown): boolean {
  const member = rooms.get(room)?.members.get(id)
  if (member === undefined) return false
  // Replaced, never merged: a state holding `__proto__` keys stays inert data.
  member.presence = presence
  node.deliver(room, { type: 'presence', room, id, state: presence }, { skip: id })
  return true
}

function publish(
  { node, rooms, durable }: Parts,
  room: string,
  input: PublishInput,
): PublishResult | Promise<PublishResult> {
  const { state, created } = rooms.open(room)
  // A server broadcast to a room nobody joined yet: its state is kept as an idle room's.
  if (created) rooms.vacated(room, state)
  if (durable !== undefined) {
    state.durable ??= durableTrack(state.seq)
    return durable.publish(room, state as typeof state & DurableRoom, input)
  }
  if (input.id !== undefined) {
    const seq = rooms.duplicateOf(state, input.id)
    if (seq !== undefined) return { seq, epoch: state.epoch, duplicate: true }
  }
  const seq = state.seq + 1
  const message = messageFrame(room, input, seq)
  // Encoded once, for the history and for every member's frame; before any change, so a value that cannot
  // be encoded changes nothing.
  const encoded = rooms.keepsHistory ? encode(message) : undefined
  state.seq = seq
  let deliverOptions: DeliverOptions | undefined
  if (encoded !== undefined) {
    rooms.append(state, seq, encoded, input.id)
    deliverOptions = input.skip === undefined ? { encoded } : { skip: input.skip, encoded }
  } else if (input.skip !== undefined) deliverOptions = { skip: input.skip }
  node.deliver(room, message, deliverOptions)
  return { seq, epoch: state.epoch, duplicate: false }
}

/** A page of the room's ring, or of its history store when it has one; null when the room is not held. */
function history(
  { rooms, durable }: Parts,
  room: string,
  before: number | undefined,
  limit: number,
): HistoryPageResult | null | Promise<HistoryPageResult> {
  const state = rooms.get(room)
  if (state === undefined) return null
  if (durable !== undefined) return durable.page(room, state.epoch, before, limit)
  return { epoch: state.epoch, ...state.history.before(before, limit) }
}

/** The durable path's view of the adapter: a committed message goes into the ring and to the members. */
function durableRooms(parts: Omit<Parts, 'durable'>, config: AdapterConfig): DurableRooms | undefined {
  if (config.historyStore === undefined) return undefined
  const { node, rooms } = parts
  return new DurableRooms(config.historyStore, {
    deliver(room, state, message, encoded, skip) {
      if (rooms.keepsHistory) rooms.append(state as MemoryRoom, message.seq, encoded, message.id)
      node.deliver(room, message, skip === undefined ? { encoded } : { skip, encoded })
    },
    heldId: (state, id) => rooms.duplicateOf(state as MemoryRoom, id),
  })
}

/**
 * The default {@link RoomAdapter}: everything in this process's memory, delivered synchronously. Enough
 * for one process; use a cluster adapter to span several. Its memory is bounded: history by bytes per room
 * and per process, and empty rooms by count and time. With `persist` its rooms outlive a graceful restart.
 * @example
 * const server = createRoomServer({
 *   port: 8080,
 *   adapter: createMemoryAdapter({ maxIdleRooms: 1000, persist: fileState('/var/lib/roomwire/state') }),
 * })
 */
export function createMemoryAdapter(options: MemoryAdapterOptions = {}): RoomAdapter {
  const { maxHistoryBytes, maxIdleRooms } = checkOptions(options)
  const persist = options.persist
  let life: Lifecycle = { status: 'detached' }

  const attached = (): Parts => {
    if (life.status === 'detached' || life.parts === undefined) {
      throw new RoomServerError('unavailable', 'the memory adapter is used before attach()')
    }
    return life.parts
  }

  /** Run a room call now, or after an asynchronous restore (in the order the calls came). */
  function whenLoaded<T>(run: (parts: Parts) => T): T | Promise<T> {
    if (life.status === 'loading') {
      const { parts, done } = life
      return done.then(() => run(parts))
    }
    return run(attached())
  }

  /**
   * Run a room call once the room is held: with a history store, a room this process does not hold
   * starts where the store has it (same epoch and seq, its newest messages in the ring), as an idle room.
   */
  function whenRoom<T>(room: string, run: (parts: Parts) => T | Promise<T>): T | Promise<T> {
    return whenLoaded((parts): T | Promise<T> => {
      const { durable, rooms, clock } = parts
      if (durable === undefined || rooms.get(room) !== undefined) return run(parts)
      return durable.load(room, parts.historySize).then((stored) => {
        if (stored !== null && rooms.get(room) === undefined) {
          rooms.restore(room, { ...stored, idleSince: clock.now() }, stored.frames)
        }
        return run(parts)
      })
    }) as T | Promise<T>
  }

  function attach(node: AdapterNode, config: AdapterConfig): void | Promise<void> {
    const clock = options.clock ?? { ...systemClock, now: config.now }
    // Attached again without a close in between (a store that outlives its server, as Redis does): the
    // rooms carry on where they were, so the next server continues each room's epoch and seq.
    const kept = life.status === 'ready' ? life.parts.rooms : undefined
    const rooms = kept ?? new MemoryRooms({ ...config, maxHistoryBytes, maxIdleRooms, clock })
    if (config.historyStore !== undefined && persist !== undefined) {
      throw new RoomServerError(
        'invalid_config',
        'the memory adapter keeps its rooms in a history store or with persist, not both',
      )
    }
    const base = { node, rooms, clock, historySize: config.historySize }
    const parts: Parts = { ...base, durable: durableRooms(base, config) }
    if (kept !== undefined) {
      life = { status: 'ready', parts }
      return
    }
    const restore = (saved: Awaited<ReturnType<RoomPersistence['load']>>) => {
      if (saved !== undefined) restoreRooms(rooms, saved, clock.now(), config.idleTimeoutMs)
    }
    const saved = persist?.load()
    if (!(saved instanceof Promise)) {
      restore(saved)
      life = { status: 'ready', parts }
      return
    }
    const done = saved.then((loaded) => {
      restore(loaded)
      if (life.status === 'loading') life = { status: 'ready', parts }
    })
    life = { status: 'loading', parts, done }
    return done
  }

  function close(): void | Promise<void> {
    if (life.status === 'closed') return
    const ready = life.status === 'ready'
    const parts = life.status === 'detached' ? undefined : life.parts
    life = { status: 'closed', parts }
    if (parts === undefined) return
    const saved = persist !== undefined && ready ? snapshotRooms(parts.rooms, parts.clock.now()) : undefined
    parts.rooms.clear()
    if (saved !== undefined) return persist!.save(saved)
  }

  return {
    attach,
    close,
    addConnection() {},
    removeConnection() {},
    join: (room, member, replay, maxMembers) =>
      whenRoom(room, (parts) => join(parts, room, member, replay, maxMembers)),
    leave: (room, id) => whenLoaded((parts) => leave(parts, room, id)),
    setPresence: (room, id, presence) => whenLoaded((parts) => setPresence(parts, room, id, presence)),
    publish: (room, input) => whenRoom(room, (parts) => publish(parts, room, input)),
    history: (room, { before, limit }) =>
      whenLoaded((parts) => history(parts, room, before, limit)) as
        | HistoryPageResult
        | null
        | Promise<HistoryPageResult | null>,
    sendDirect: (to: string, message: DirectEventMessage) =>
      attached().node.deliverDirect({ kind: 'only', ids: [to] }, message) > 0,
    broadcastDirect(target: ConnectionTarget, message: DirectEventMessage) {
      attached().node.deliverDirect(target, message)
    },
    roomInfo: (room: string) =>
      whenLoaded(({ rooms }): AdapterRoomInfo | null => {
        const state = rooms.get(room)
        if (state === undefined) return null
        return { seq: state.seq, epoch: state.epoch, members: [...state.members.values()] }
      }),
    rooms: () => whenLoaded(({ rooms }) => rooms.occupiedNames()),
    stats: () => (life.status === 'detached' ? NO_STATS : (life.parts?.rooms.stats() ?? NO_STATS)),
  }
}
