import { randomBytes } from 'node:crypto'
import { type DirectEventMessage, encode, type Member, type RoomEventMessage } from '@roomwire/protocol'
import type {
  AdapterConfig,
  AdapterNode,
  AdapterRoomInfo,
  AdapterStats,
  ConnectionTarget,
  DeliverOptions,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
} from './adapter'
import { RoomServerError } from './errors'
import { HistoryRing } from './history'
import { type BudgetedHistory, HistoryBudget } from './history-budget'
import {
  checkRoomSnapshots,
  type RestoredFrame,
  type RoomPersistence,
  type RoomSnapshot,
  restoredFrames,
} from './room-snapshot'

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
}

/** Defaults of {@link MemoryAdapterOptions}. */
export const DEFAULT_MEMORY_ADAPTER_OPTIONS: Required<Omit<MemoryAdapterOptions, 'persist'>> = {
  maxHistoryBytes: 134_217_728,
  maxIdleRooms: 10_000,
}

interface RoomState extends BudgetedHistory {
  seq: number
  readonly epoch: string
  readonly history: HistoryRing
  readonly members: Map<string, Member>
  /** When it last became empty (server clock); meaningful while it is in the idle list. */
  idleSince: number
}

/** A fresh epoch name: random, so a restarted process never reuses one. */
export function newEpoch(): string {
  return `e_${randomBytes(9).toString('base64url')}`
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

/** A restored room that cannot be used: the server must not start on half of what it saved. */
function badSnapshot(fault: string): RoomServerError {
  return new RoomServerError('invalid_config', `the memory adapter cannot restore its rooms: ${fault}`)
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
  const rooms = new Map<string, RoomState>()
  /** Rooms without members, the one empty longest first (a Map keeps insertion order). */
  const idle = new Map<string, RoomState>()
  const budget = new HistoryBudget(maxHistoryBytes)
  let idleRoomsEvicted = 0
  let expiry: ReturnType<typeof setTimeout> | undefined
  let node: AdapterNode | undefined
  let config: AdapterConfig | undefined
  /** While an asynchronous `persist.load()` runs: every room call waits for it, in order. */
  let loading: Promise<void> | undefined
  /** The rooms were restored (or there was nothing to restore): only then may `close()` save them. */
  let loaded = false
  let closed = false

  const attached = (): { node: AdapterNode; config: AdapterConfig } => {
    if (node === undefined || config === undefined) {
      throw new RoomServerError('unavailable', 'the memory adapter is used before attach()')
    }
    return { node, config }
  }

  const stateOf = (room: string): RoomState => {
    let state = rooms.get(room)
    if (state === undefined) {
      const c = attached().config
      state = {
        seq: 0,
        epoch: newEpoch(),
        history: new HistoryRing(c.historySize, c.historyMaxBytes),
        members: new Map(),
        idleSince: 0,
        older: undefined,
        newer: undefined,
        listed: false,
      }
      rooms.set(room, state)
    }
    return state
  }

  function free(room: string, state: RoomState): void {
    rooms.delete(room)
    idle.delete(room)
    budget.release(state)
  }

  // An empty room keeps its seq, epoch and history for idleTimeoutMs so clients can resume, then is freed;
  // at most maxIdleRooms are kept (issue 12: 40 connections churning room names left 72,500 for an hour).
  function becameIdle(room: string, state: RoomState): void {
    idle.delete(room)
    state.idleSince = attached().config.now()
    listIdle(room, state)
    scheduleExpiry()
  }

  function listIdle(room: string, state: RoomState): void {
    idle.set(room, state)
    if (idle.size > maxIdleRooms) {
      const [oldest, oldestState] = idle.entries().next().value!
      free(oldest, oldestState)
      idleRoomsEvicted++
    }
  }

  /**
   * Rooms a graceful close saved come back as idle rooms, the one empty longest first, with their epoch,
   * seq and history (within this process's budgets) and the rest of their idle timeout.
   */
  function restore(snapshots: readonly RoomSnapshot[]): void {
    const fault = checkRoomSnapshots(snapshots)
    if (fault !== null) throw badSnapshot(fault)
    const { historySize, historyMaxBytes, idleTimeoutMs, now } = attached().config
    const t = now()
    const restored: [RoomState, RestoredFrame[], string][] = []
    for (const snapshot of snapshots) {
      const frames = restoredFrames(snapshot)
      if (typeof frames === 'string') throw badSnapshot(frames)
      // A clock that went back must not make a room live longer than its timeout.
      const idleSince = Math.min(snapshot.idleSince, t)
      if (idleSince + idleTimeoutMs <= t) continue
      const state: RoomState = {
        seq: snapshot.seq,
        epoch: snapshot.epoch,
        history: new HistoryRing(historySize, historyMaxBytes),
        members: new Map(),
        idleSince,
        older: undefined,
        newer: undefined,
        listed: false,
      }
      restored.push([state, frames, snapshot.room])
    }
    restored.sort(([a], [b]) => a.idleSince - b.idleSince)
    for (const [state, frames, room] of restored) {
      rooms.set(room, state)
      if (historySize > 0) for (const f of frames) budget.push(state, f.seq, f.text, f.id)
      listIdle(room, state)
    }
    scheduleExpiry()
  }

  /** Every room's state for `persist.save`; members are not kept (each comes back with a `join`). */
  function snapshot(): RoomSnapshot[] {
    const t = attached().config.now()
    return [...rooms].map(([room, state]) => ({
      room,
      epoch: state.epoch,
      seq: state.seq,
      history: state.history.last(state.history.size),
      idleSince: state.members.size === 0 ? state.idleSince : t,
    }))
  }

  /** Run a room call now, or after an asynchronous restore (in the order the calls came). */
  function whenLoaded<T>(run: () => T): T | Promise<T> {
    return loading === undefined ? run() : loading.then(run)
  }

  // One timer for all idle rooms: they all wait the same time, so the one empty longest expires first.
  function scheduleExpiry(): void {
    if (expiry !== undefined) return
    const first = idle.values().next().value
    if (first === undefined) return
    const { idleTimeoutMs, now } = attached().config
    expiry = setTimeout(expire, Math.max(1, first.idleSince + idleTimeoutMs - now()))
    expiry.unref()
  }

  function expire(): void {
    expiry = undefined
    const { idleTimeoutMs, now } = attached().config
    const t = now()
    for (const [room, state] of idle) {
      if (state.idleSince + idleTimeoutMs > t) break
      free(room, state)
    }
    scheduleExpiry()
  }

  const join = (room: string, member: Member, replay: ReplayRequest, maxMembers: number): JoinResult => {
    const state = stateOf(room)
    const rejoined = state.members.has(member.id)
    if (!rejoined && state.members.size >= maxMembers) return { ok: false, reason: 'room_full' }
    if (!rejoined) {
      idle.delete(room)
      state.members.set(member.id, member)
      node!.deliver(room, { type: 'member_joined', room, member }, { skip: member.id })
    }
    let frames: string[] = []
    let recovered: boolean | undefined
    if (replay.since !== undefined) {
      const sameEpoch = replay.epoch === state.epoch
      const result = sameEpoch ? state.history.since(replay.since, state.seq) : { recovered: false as const }
      recovered = result.recovered
      // Otherwise whatever is still held of this epoch: a client back after a lost epoch misses nothing the
      // room has (issue 13).
      frames = result.recovered ? result.frames : state.history.after(sameEpoch ? replay.since : 0)
    } else if (replay.history !== undefined && replay.history > 0) {
      frames = state.history.last(replay.history)
    }
    budget.touch(state)
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

  const leave = (room: string, id: string): void => {
    const state = rooms.get(room)
    if (state === undefined || !state.members.delete(id)) return
    node!.deliver(room, { type: 'member_left', room, id })
    if (state.members.size === 0) becameIdle(room, state)
  }

  const setPresence = (room: string, id: string, presence: unknown): boolean => {
    const member = rooms.get(room)?.members.get(id)
    if (member === undefined) return false
    // Replaced, never merged: a state holding `__proto__` keys stays inert data.
    member.presence = presence
    node!.deliver(room, { type: 'presence', room, id, state: presence }, { skip: id })
    return true
  }

  const publish = (room: string, input: PublishInput): PublishResult => {
    const created = !rooms.has(room)
    const state = stateOf(room)
    // A server broadcast to a room nobody joined yet: its state is kept as an idle room's.
    if (created) becameIdle(room, state)
    if (input.id !== undefined) {
      const seq = state.history.seqOfId(input.id)
      if (seq !== undefined) return { seq, epoch: state.epoch, duplicate: true }
    }
    const seq = state.seq + 1
    const message: RoomEventMessage = {
      type: 'message',
      room,
      event: input.event,
      data: input.data,
      from: input.from,
      seq,
      ts: input.ts,
    }
    if (input.id !== undefined) message.id = input.id
    // Encoded once, for the history and for every member's frame; before any change, so a value that cannot
    // be encoded changes nothing.
    const encoded = config!.historySize > 0 ? encode(message) : undefined
    state.seq = seq
    let deliverOptions: DeliverOptions | undefined
    if (encoded !== undefined) {
      budget.push(state, seq, encoded, input.id)
      deliverOptions = input.skip === undefined ? { encoded } : { skip: input.skip, encoded }
    } else if (input.skip !== undefined) deliverOptions = { skip: input.skip }
    node!.deliver(room, message, deliverOptions)
    return { seq, epoch: state.epoch, duplicate: false }
  }

  const stats = (): AdapterStats => ({
    idleRooms: idle.size,
    historyBytes: budget.bytes,
    idleRoomsEvicted,
    historyEvicted: budget.evicted,
  })

  return {
    attach(n, c) {
      node = n
      config = c
      if (persist === undefined) {
        loaded = true
        return
      }
      const saved = persist.load()
      if (!(saved instanceof Promise)) {
        if (saved !== undefined) restore(saved)
        loaded = true
        return
      }
      loading = saved.then((rooms) => {
        if (rooms !== undefined) restore(rooms)
        loaded = true
        loading = undefined
      })
      return loading
    },
    close() {
      if (closed) return
      closed = true
      if (expiry !== undefined) clearTimeout(expiry)
      expiry = undefined
      // Saved only what was restored and grew from it: a failed restore must not overwrite the last save.
      const saved = persist !== undefined && loaded ? snapshot() : undefined
      for (const [room, state] of rooms) free(room, state)
      if (saved !== undefined) return persist!.save(saved)
    },
    addConnection() {},
    removeConnection() {},
    join: (room, member, replay, maxMembers) => whenLoaded(() => join(room, member, replay, maxMembers)),
    leave: (room, id) => whenLoaded(() => leave(room, id)),
    setPresence: (room, id, presence) => whenLoaded(() => setPresence(room, id, presence)),
    publish: (room, input) => whenLoaded(() => publish(room, input)),
    sendDirect: (to: string, message: DirectEventMessage) =>
      attached().node.deliverDirect({ kind: 'only', ids: [to] }, message) > 0,
    broadcastDirect(target: ConnectionTarget, message: DirectEventMessage) {
      attached().node.deliverDirect(target, message)
    },
    roomInfo: (room: string) =>
      whenLoaded((): AdapterRoomInfo | null => {
        const state = rooms.get(room)
        if (state === undefined) return null
        return { seq: state.seq, epoch: state.epoch, members: [...state.members.values()] }
      }),
    rooms: () =>
      whenLoaded(() => [...rooms].filter(([, state]) => state.members.size > 0).map(([name]) => name)),
    stats,
  }
}
