import type { Member } from '@roomwire/protocol'
import { newEpoch } from '../epoch'
import type { RoomHead } from '../history-store'
import type { Frame } from './frames'
import type { KeyLayout } from './keys'
import type { ScriptReply } from './script-reply'

/** The names a room script gives a room's keys, then the cluster-wide keys `touch_room` needs. */
export const ROOM_KEYS = ['state', 'hist', 'ids', 'members', 'owners'] as const
export const IDLE_KEYS = ['rooms', 'idle', 'idle_bytes', 'idle_total'] as const

/** What this node is in the cluster: its id and its current registration. */
export interface NodeScope {
  nodeId: string
  /** Fences every script: one that runs after the node registered again does nothing. */
  generation: string
}

/** The room bounds the scripts apply. */
export interface RoomLimits {
  historySize: number
  historyMaxBytes: number
  idleTimeoutMs: number
  maxIdleRooms: number
  maxIdleHistoryBytes: number
}

/** A refusal from a script: this node's registration is no longer the current one; nothing changed. */
export interface Fenced {
  ok: false
  reason: 'fenced'
}

export const FENCED: Fenced = { ok: false, reason: 'fenced' }

/** Where a catch-up starts: the last seq the node's members saw, in its epoch. */
export interface Position {
  since: number
  epoch: string
}

/** A catch-up read of one room. */
export interface Snapshot {
  /** Empty when the room has no state and this node has no member in it. */
  epoch: string
  seq: number
  /** -1: no position was given; 0: some messages after it are gone; 1: `replay` holds all of them. */
  recovered: -1 | 0 | 1
  members: Member[]
  /** Oldest first, ending at `seq` without gaps. */
  replay: Frame[]
}

/** The keys of `room` under the names of {@link ROOM_KEYS} and {@link IDLE_KEYS}. */
export function roomScriptKeys(keys: KeyLayout, room: string) {
  return { ...keys.room(room), rooms: keys.rooms, ...keys.idle }
}

/** The arguments `touch_room` and `idle_over` read. */
export function idleArgs(limits: RoomLimits) {
  return {
    idle_ms: limits.idleTimeoutMs,
    max_idle_rooms: limits.maxIdleRooms,
    max_idle_bytes: limits.maxIdleHistoryBytes,
  }
}

/**
 * Where `ensure_state` (lua.ts) starts a room that has no state in Redis: undefined, a fresh epoch (no
 * history store); `'ask'`, nowhere (the script answers `unseeded`, and the caller reads the store's head);
 * a head, at that epoch and seq.
 */
export type Seed = undefined | 'ask' | RoomHead

/** The epoch, `reset` frame and seed `ensure_state` starts a room with if it has none; see {@link Seed}. */
export function freshEpoch(room: string, seed?: Seed) {
  if (seed === undefined || seed === 'ask') {
    const epoch = newEpoch()
    const reset_frame = JSON.stringify({ type: 'reset', room, epoch, seq: 0 })
    return { epoch, reset_frame, seed: seed ?? '' }
  }
  const reset_frame = JSON.stringify({ type: 'reset', room, epoch: seed.epoch, seq: seed.seq })
  return { epoch: seed.epoch, reset_frame, seed: seed.seq }
}

/** A script refusal: the room has no state in Redis and the caller must say where it starts. */
export interface Unseeded {
  ok: false
  reason: 'unseeded'
}

export const UNSEEDED: Unseeded = { ok: false, reason: 'unseeded' }

/** Members as the scripts return them (`HVALS`: each member's JSON, as this adapter wrote it). */
export function parseMembers(json: readonly string[]): Member[] {
  return json.map((member) => JSON.parse(member) as Member)
}

/** A script's `recovered` field (see `replay` in lua.ts): -1 when no position was given. */
export function recoveredOf(reply: ScriptReply): -1 | 0 | 1 {
  return reply.oneOf(-1, 0, 1)
}
