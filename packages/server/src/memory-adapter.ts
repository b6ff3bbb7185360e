import { randomBytes } from 'node:crypto'
import { type DirectEventMessage, encode, type Member, type RoomEventMessage } from '@roomwire/protocol'
import type {
  AdapterConfig,
  AdapterNode,
  AdapterRoomInfo,
  ConnectionTarget,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
} from './adapter'
import { RoomServerError } from './errors'
import { HistoryRing } from './history'

interface RoomState {
  seq: number
  epoch: string
  history: HistoryRing
  members: Map<string, Member>
  expiry: ReturnType<typeof setTimeout> | undefined
}

/** A fresh epoch name: random, so a restarted process never reuses one. */
export function newEpoch(): string {
  return `e_${randomBytes(9).toString('base64url')}`
}

/**
 * The default {@link RoomAdapter}: everything in this process's memory, delivered synchronously. Enough
 * for one process; use a cluster adapter to span several.
 * @example
 * const server = createRoomServer({ port: 8080, adapter: createMemoryAdapter() })
 */
export function createMemoryAdapter(): RoomAdapter {
  const rooms = new Map<string, RoomState>()
  let node: AdapterNode | undefined
  let config: AdapterConfig | undefined

  const attached = (): { node: AdapterNode; config: AdapterConfig } => {
    if (node === undefined || config === undefined) {
      throw new RoomServerError('unavailable', 'the memory adapter is used before attach()')
    }
    return { node, config }
  }

  const stateOf = (room: string): RoomState => {
    let state = rooms.get(room)
    if (state === undefined) {
      state = {
        seq: 0,
        epoch: newEpoch(),
        history: new HistoryRing(attached().config.historySize),
        members: new Map(),
        expiry: undefined,
      }
      rooms.set(room, state)
      scheduleExpiry(room, state)
    }
    return state
  }

  // An empty room keeps its seq, epoch and history for idleTimeoutMs so clients can resume, then is freed.
  function scheduleExpiry(room: string, state: RoomState): void {
    if (state.members.size > 0 || state.expiry !== undefined) return
    state.expiry = setTimeout(() => {
      if (rooms.get(room) === state && state.members.size === 0) rooms.delete(room)
    }, attached().config.idleTimeoutMs)
    state.expiry.unref()
  }

  function cancelExpiry(state: RoomState): void {
    if (state.expiry === undefined) return
    clearTimeout(state.expiry)
    state.expiry = undefined
  }

  const join = (room: string, member: Member, replay: ReplayRequest, maxMembers: number): JoinResult => {
    const state = stateOf(room)
    const rejoined = state.members.has(member.id)
    if (!rejoined && state.members.size >= maxMembers) return { ok: false, reason: 'room_full' }
    if (!rejoined) {
      cancelExpiry(state)
      state.members.set(member.id, member)
      node!.deliver(room, { type: 'member_joined', room, member }, { skip: member.id })
    }
    let messages: RoomEventMessage[] = []
    let recovered: boolean | undefined
    if (replay.since !== undefined) {
      const sameEpoch = replay.epoch === state.epoch
      const result = sameEpoch ? state.history.since(replay.since, state.seq) : { recovered: false as const }
      recovered = result.recovered
      if (result.recovered) messages = result.messages
      else {
        // Whatever is still held of this epoch: a client back after a lost epoch misses nothing the room has.
        const after = sameEpoch ? replay.since : 0
        messages = state.history.last(state.history.size).filter((message) => message.seq > after)
      }
    } else if (replay.history !== undefined && replay.history > 0) {
      messages = state.history.last(replay.history)
    }
    const result: JoinResult = {
      ok: true,
      seq: state.seq,
      epoch: state.epoch,
      members: [...state.members.values()],
      replay: messages.map((message) => encode(message)),
      rejoined,
    }
    if (recovered !== undefined) result.recovered = recovered
    return result
  }

  const leave = (room: string, id: string): void => {
    const state = rooms.get(room)
    if (state === undefined || !state.members.delete(id)) return
    node!.deliver(room, { type: 'member_left', room, id })
    scheduleExpiry(room, state)
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
    const state = stateOf(room)
    if (input.id !== undefined) {
      const seq = state.history.seqOfId(input.id)
      if (seq !== undefined) return { seq, epoch: state.epoch, duplicate: true }
    }
    const seq = ++state.seq
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
    state.history.push(message)
    node!.deliver(room, message, input.skip === undefined ? undefined : { skip: input.skip })
    return { seq, epoch: state.epoch, duplicate: false }
  }

  return {
    attach(n, c) {
      node = n
      config = c
    },
    close() {
      for (const state of rooms.values()) cancelExpiry(state)
      rooms.clear()
    },
    addConnection() {},
    removeConnection() {},
    join,
    leave,
    setPresence,
    publish,
    sendDirect: (to: string, message: DirectEventMessage) =>
      attached().node.deliverDirect({ kind: 'only', ids: [to] }, message) > 0,
    broadcastDirect(target: ConnectionTarget, message: DirectEventMessage) {
      attached().node.deliverDirect(target, message)
    },
    roomInfo(room: string): AdapterRoomInfo | null {
      const state = rooms.get(room)
      if (state === undefined) return null
      return { seq: state.seq, epoch: state.epoch, members: [...state.members.values()] }
    },
    rooms: () => [...rooms].filter(([, state]) => state.members.size > 0).map(([name]) => name),
  }
}
