import type { HistoryPageResult, HistoryRequest } from '../adapter'
import { RoomServerError } from '../errors'
import type { HistoryStore, StoreRefusal } from '../history-store'
import { type Frame, parseFrame } from './frames'
import type { Seed, Unseeded } from './script-shared'

/** The error for `what` refused because the history store refused. */
export function storeUnavailable(what: string, refusal: StoreRefusal): RoomServerError {
  return new RoomServerError(
    'unavailable',
    `${what} refused: the history store is unavailable (${refusal.message}); retry shortly`,
  )
}

/**
 * Run a script that creates a room's state when Redis has none: without a store, with a fresh epoch;
 * with one, first asking (`'ask'`: the script changes nothing and answers `unseeded` if Redis has no
 * state), then again from the store's head, so a room Redis lost continues in the store's epoch and seq
 * (issue 18). Two nodes doing it at once are fine: the script only creates a state that is absent.
 */
export async function seeded<R>(
  store: HistoryStore | undefined,
  room: string,
  what: string,
  run: (seed: Seed) => Promise<R | Unseeded>,
): Promise<R> {
  const first = await run(store === undefined ? undefined : 'ask')
  if (!isUnseeded(first)) return first
  const head = await store!.head(room)
  if (!head.ok) throw storeUnavailable(what, head)
  const again = await run(head.head ?? undefined)
  if (isUnseeded(again)) throw new Error(`${what}: a seeded script answered unseeded`)
  return again
}

function isUnseeded(reply: unknown): reply is Unseeded {
  const r = reply as Partial<Unseeded>
  return r.ok === false && r.reason === 'unseeded'
}

/** A `message` frame's JSON from the store as a history {@link Frame} (nobody skipped). */
export function storedFrame(encoded: string): Frame {
  const frame = parseFrame(`\n${encoded}`)
  if (frame === undefined || 'mark' in frame) throw new Error('the history store returned a malformed frame')
  return frame
}

/**
 * What {@link fillFromStore} found: every message after `since`; or not: `down` when the store refused
 * (ask again later), else more than the cap are missing or the store no longer has them all (retention).
 */
export type Fill = { ok: true; frames: Frame[] } | { ok: false; down: boolean }

/**
 * The messages of `epoch` after `since` up to the first of `held` (which end at the room's `seq`), read
 * from the store and put before `held`, at most `cap.messages` of them and `cap.bytes` of frames in all.
 * Redis's history starts where Redis last lost the room; the store has what came before.
 */
export async function fillFromStore(
  store: HistoryStore,
  room: string,
  at: { epoch: string; seq: number; since: number },
  held: readonly Frame[],
  cap: { messages: number; bytes: number },
): Promise<Fill> {
  const firstHeld = at.seq - held.length + 1
  const need = firstHeld - 1 - at.since
  if (need <= 0) return { ok: true, frames: [...held] }
  if (need > cap.messages) return { ok: false, down: false }
  const page = await store.page(room, { epoch: at.epoch, before: firstHeld, limit: need })
  if (!page.ok) return { ok: false, down: true }
  if (page.frames.length !== need) return { ok: false, down: false }
  const older = page.frames.map(storedFrame)
  const contiguous = older.every((f, i) => f.message.type === 'message' && f.message.seq === at.since + 1 + i)
  let bytes = 0
  for (const frame of [...older, ...held]) bytes += frame.encoded.length
  if (!contiguous || bytes > cap.bytes) return { ok: false, down: false }
  return { ok: true, frames: [...older, ...held] }
}

/** What a join read from Redis, and what it asked to replay. */
interface JoinRead {
  epoch: string
  seq: number
  recovered: boolean | undefined
  replay: Frame[]
}

/**
 * A join's replay completed from the store where Redis no longer has it (Redis lost the room, and its
 * history starts there): with `since` in the room's epoch, every message after it when at most
 * `historySize` are missing and they fit `historyMaxBytes` (then `recovered: true`); without, the last
 * `history`. The store unreachable: what Redis had (the member is already added and announced, so the
 * join is not refused for it).
 */
export async function joinFromStore(
  store: HistoryStore,
  room: string,
  read: JoinRead,
  asked: { since?: number; epoch?: string; history?: number },
  limits: { historySize: number; historyMaxBytes: number },
): Promise<{ replay: Frame[]; recovered: boolean | undefined }> {
  const cap = { messages: limits.historySize, bytes: limits.historyMaxBytes }
  const { epoch, seq, replay } = read
  if (asked.since !== undefined) {
    if (read.recovered === true || asked.epoch !== epoch || asked.since > seq) {
      return { replay, recovered: read.recovered }
    }
    const filled = await fillFromStore(store, room, { epoch, seq, since: asked.since }, replay, cap)
    return filled.ok ? { replay: filled.frames, recovered: true } : { replay, recovered: false }
  }
  const want = Math.min(asked.history ?? 0, seq)
  if (replay.length >= want) return { replay, recovered: read.recovered }
  const filled = await fillFromStore(store, room, { epoch, seq, since: seq - want }, replay, cap)
  return { replay: filled.ok ? filled.frames : replay, recovered: read.recovered }
}

/** A history page from the store, in the room's epoch in Redis (`null`: Redis has no state of it). */
export async function pageFromStore(
  store: HistoryStore,
  room: string,
  epoch: string | null,
  request: HistoryRequest,
): Promise<HistoryPageResult | null> {
  if (epoch === null) return null
  const page = await store.page(room, { ...request, epoch })
  if (!page.ok) throw storeUnavailable('history', page)
  return { epoch, frames: page.frames, more: page.more }
}
