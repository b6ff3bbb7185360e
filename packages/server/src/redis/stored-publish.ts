import { encode, type RoomEventMessage } from '@roomwire/protocol'
import type { PublishInput, PublishResult } from '../adapter'
import type { Clock } from '../clock'
import { newEpoch } from '../epoch'
import type { HistoryStore, RoomHead } from '../history-store'
import { messageFrame } from '../message-frame'
import { type AdapterContext, fencedError, runStore } from './context'
import type { RelayFrame, RelayReply } from './relay-script'
import type { RoomFeeds } from './room-feeds'
import type { NodeScope } from './script-shared'
import { storedFrame, storeUnavailable } from './store-fill'

/** Times a relay waits for another node's earlier commit to be relayed before taking it from the store. */
const GAP_WAITS_MS = [5, 25]
/** Messages a relay takes from the store at most to close a gap (beyond it, the publish is refused). */
const MAX_FILL = 1000

/**
 * Publishing with a history store beside Redis (issue 18). The store assigns the seq as it commits
 * ({@link HistoryStore.appendNext}), so nodes never take the same seq and a message exists only once it
 * is stored; then the relay script hands it to every node through Redis, in seq order. An ack therefore
 * means stored, and a Redis that lost the room (a flush, a failover to an empty replica) changes no seq:
 * the store continues the room, and Redis's state starts again at the first message relayed to it.
 *
 * Two nodes' commits can reach Redis out of order: the later one waits a moment for the earlier, then
 * relays it itself, read from the store (whose frames do not know `skip`: the earlier publisher, if it
 * set `echo: false`, may then get its own message). Dedupe by message id asks the store, so a retry of an
 * acked publish after a flush (or of one whose answer was lost) is not stored twice; it is relayed again
 * if Redis never had it.
 */
export class StoredPublisher {
  readonly #ctx: AdapterContext
  /** One with {@link HistoryStore.appendNext} (the adapter checked at attach). */
  readonly #store: HistoryStore
  readonly #feeds: RoomFeeds
  readonly #clock: Clock
  readonly #idleOver: () => void

  constructor(
    ctx: AdapterContext,
    store: HistoryStore,
    feeds: RoomFeeds,
    clock: Clock,
    idleOver: () => void,
  ) {
    this.#ctx = ctx
    this.#store = store
    this.#feeds = feeds
    this.#clock = clock
    this.#idleOver = idleOver
  }

  /** Publishes of one message id running on this node, by room and id. */
  readonly #sameId = new Map<string, Promise<PublishResult>>()

  publish(room: string, input: PublishInput): Promise<PublishResult> {
    if (input.id === undefined) return this.#publish(room, input)
    // Two publishes of one id here at once (a reconnected client's resend while its old socket's is still
    // in flight, or two tabs) would both find nothing in the store and both be stored under new seqs: the
    // later one waits for the first and answers with its seq, or tries itself if the first was refused.
    const key = `${room}\n${input.id}`
    const first = this.#sameId.get(key)
    if (first !== undefined) {
      return first.then(
        (result) => ({ ...result, duplicate: true }),
        () => this.publish(room, input),
      )
    }
    const running = this.#publish(room, input).finally(() => this.#sameId.delete(key))
    this.#sameId.set(key, running)
    return running
  }

  async #publish(room: string, input: PublishInput): Promise<PublishResult> {
    const what = `publish to ${room}`
    const { link } = this.#ctx
    const scope = link.require(what)
    const { state } = this.#ctx.keys.room(room)
    const [epoch, seq] = await runStore(link, what, () => link.cmd.hmget(state, 'epoch', 'seq'))
    // Where the store starts a room it has no message of: where Redis has it.
    const fallback: RoomHead = epoch == null ? { epoch: newEpoch(), seq: 0 } : { epoch, seq: Number(seq) }
    if (input.id !== undefined) {
      const found = await this.#store.findId(room, input.id)
      if (!found.ok) throw storeUnavailable(what, found)
      if (found.found !== null) {
        const original = found.found
        if (epoch == null || original.epoch !== epoch || original.seq > fallback.seq) {
          await this.#relayStored(scope, room, original)
        }
        await this.#delivered(room, original)
        return { ...original, duplicate: true }
      }
    }
    const { skip, ...fields } = input
    const stored = await this.#store.appendNext!({ room, ...fields }, fallback)
    if (!stored.ok) throw storeUnavailable(what, stored)
    const message = messageFrame(room, input, stored.seq)
    const frame = { seq: stored.seq, id: input.id ?? '', skip: skip ?? '', encoded: encode(message) }
    await this.#relay(scope, room, stored.epoch, frame)
    await this.#delivered(room, stored)
    return { epoch: stored.epoch, seq: stored.seq, duplicate: false }
  }

  /**
   * A stored message Redis may never have had (its relay failed, or Redis lost it): relay it now, if it is
   * of the room's current epoch in the store (a duplicate of an older epoch is only answered).
   */
  async #relayStored(scope: NodeScope, room: string, at: RoomHead): Promise<void> {
    const head = await this.#store.head(room)
    if (!head.ok) throw storeUnavailable(`publish to ${room}`, head)
    if (head.head?.epoch !== at.epoch) return
    const page = await this.#store.page(room, { epoch: at.epoch, before: at.seq + 1, limit: 1 })
    if (!page.ok) throw storeUnavailable(`publish to ${room}`, page)
    const encoded = page.frames[0]
    if (encoded === undefined) return
    const { message } = storedFrame(encoded)
    const id = message.type === 'message' ? (message.id ?? '') : ''
    await this.#relay(scope, room, at.epoch, { seq: at.seq, id, skip: '', encoded })
  }

  /** Relay `frame`, first closing a gap before it (see the class). */
  async #relay(scope: NodeScope, room: string, epoch: string, frame: RelayFrame): Promise<void> {
    const what = `publish to ${room}`
    const { link, rooms } = this.#ctx
    const send = async (frames: RelayFrame[]): Promise<RelayReply & { ok: true }> => {
      const reply = await runStore(link, what, () => rooms.relay(scope, room, epoch, frames))
      if (!reply.ok) throw fencedError(link, what)
      if (reply.idleOver) this.#idleOver()
      return reply
    }
    let reply = await send([frame])
    for (const waitMs of GAP_WAITS_MS) {
      if (!reply.gap) return
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, waitMs))
      reply = await send([frame])
    }
    for (let tries = 0; tries < 3 && reply.gap; tries++) {
      const need = frame.seq - 1 - reply.seq
      if (need > MAX_FILL) break
      const page = await this.#store.page(room, { epoch, before: frame.seq, limit: need })
      if (!page.ok) throw storeUnavailable(what, page)
      const fill = page.frames.map((encoded) => {
        const { message } = storedFrame(encoded)
        const m = message as RoomEventMessage
        return { seq: m.seq, id: m.id ?? '', skip: '', encoded }
      })
      reply = await send([...fill, frame])
    }
    // Stored, but not handed on: refused, so the client retries, and the retry relays it (see publish).
    if (reply.gap) throw link.unavailable(what)
  }

  /** The ack follows the room frames before it (PROTOCOL.md, `ack`): wait until this node delivered it. */
  async #delivered(room: string, at: RoomHead): Promise<void> {
    const feed = this.#feeds.get(room)
    if (feed === undefined || feed.members.size === 0) return
    if (!(await feed.delivered(at.epoch, at.seq, this.#ctx.commandTimeoutMs))) this.#ctx.link.suspect()
  }
}
