import type { AdapterContext } from './context'
import { fencedError } from './context'
import { RoomFeed } from './room-feed'
import type { NodeScope } from './script-shared'
import { fillFromStore, seeded } from './store-fill'

/** Messages a catch-up reads from the history store at most (beyond it the members see the gap). */
const MAX_FILL = { messages: 10_000, bytes: 64 * 1024 * 1024 }

/**
 * This node's room feeds, one per room with a local member or a join in flight, found by room or by
 * channel; and the catch-ups that bring a feed back in step with Redis (at most one per feed at a time).
 */
export class RoomFeeds {
  readonly #ctx: AdapterContext
  readonly #syncing: (room: string) => (idleOver: boolean) => void
  readonly #byRoom = new Map<string, RoomFeed>()
  readonly #byChannel = new Map<string, RoomFeed>()
  readonly #catchingUp = new Map<RoomFeed, { again: boolean }>()

  /**
   * `syncing` hears of every catch-up as it reads a room's members, and its answer once Redis holds them
   * (NodeRegistry.syncing).
   */
  constructor(ctx: AdapterContext, syncing: (room: string) => (idleOver: boolean) => void) {
    this.#ctx = ctx
    this.#syncing = syncing
  }

  get(room: string): RoomFeed | undefined {
    return this.#byRoom.get(room)
  }

  byChannel(channel: string): RoomFeed | undefined {
    return this.#byChannel.get(channel)
  }

  /** The feed of `room`, made if needed. */
  open(room: string): RoomFeed {
    let feed = this.#byRoom.get(room)
    if (feed === undefined) {
      const { keys, node, clock } = this.#ctx
      feed = new RoomFeed(room, keys.roomChannel(room), node, (f) => this.#request(f), clock)
      this.#byRoom.set(room, feed)
      this.#byChannel.set(feed.channel, feed)
    }
    return feed
  }

  /** Let a feed go once it has no member and no join left, with its subscription. */
  release(feed: RoomFeed): void {
    if (!feed.idle || this.#byRoom.get(feed.room) !== feed) return
    this.#byRoom.delete(feed.room)
    this.#byChannel.delete(feed.channel)
    feed.release()
    const { sub } = this.#ctx.link
    if (sub.status === 'ready') sub.unsubscribe(feed.channel).catch(() => undefined)
  }

  /** `id` left `room` here: out of its feed, which goes if it has nobody left. */
  leave(room: string, id: string): void {
    const feed = this.#byRoom.get(room)
    if (feed === undefined) return
    feed.leave(id)
    this.release(feed)
  }

  /** Resolves once the subscriber receives the feed's channel. */
  async subscribe(feed: RoomFeed): Promise<void> {
    feed.subscribed ??= this.#ctx.link.sub.subscribe(feed.channel)
    try {
      await feed.subscribed
    } catch (err) {
      feed.subscribed = undefined
      throw err
    }
  }

  /** The link went down: frames published meanwhile are read back from the history by {@link restore}. */
  suspendAll(): void {
    for (const feed of this.#byRoom.values()) {
      feed.linkLost()
      feed.subscribed = undefined
    }
  }

  /** The node registered again: subscribe every room again, then catch each one up. */
  async restore(scope: NodeScope): Promise<void> {
    const feeds = [...this.#byRoom.values()]
    for (const feed of feeds) feed.suspend()
    if (feeds.length > 0) {
      const subscribing = this.#ctx.link.sub.subscribe(...feeds.map((feed) => feed.channel))
      for (const feed of feeds) feed.subscribed = subscribing
      await subscribing
    }
    for (const feed of feeds) await this.#catchUp(feed, scope)
  }

  /** A catch-up that failed while the link stayed up is tried again. */
  retryStalled(): void {
    for (const feed of this.#byRoom.values()) {
      if (feed.catchingUp && !this.#catchingUp.has(feed)) this.#request(feed)
    }
  }

  /** Forget every feed (the adapter closed). */
  clear(): void {
    for (const feed of this.#byRoom.values()) feed.release()
    this.#byRoom.clear()
    this.#byChannel.clear()
  }

  /** Register a feed's members again and replay what they missed. */
  async #catchUp(feed: RoomFeed, scope: NodeScope): Promise<void> {
    const { rooms, store, link } = this.#ctx
    const what = `catching up ${feed.room}`
    const position = feed.position
    const synced = this.#syncing(feed.room)
    const reply = await seeded(store, feed.room, what, (seed) =>
      rooms.sync(scope, feed.room, feed.local(), position, seed),
    )
    if (!reply.ok) throw fencedError(link, what)
    synced(reply.idleOver)
    let { snapshot } = reply
    if (store !== undefined && snapshot.recovered === 0 && position?.epoch === snapshot.epoch) {
      // Redis lost the room since (its history starts later): what the members missed is in the store.
      const at = { epoch: snapshot.epoch, seq: snapshot.seq, since: position.since }
      const filled = await fillFromStore(store, feed.room, at, snapshot.replay, MAX_FILL)
      if (filled.ok) snapshot = { ...snapshot, recovered: 1, replay: filled.frames }
      else if (filled.down) {
        // The members stay held (registered again already): the next maintenance tick tries once more.
        this.#ctx.log?.warn({ room: feed.room }, 'catching up a room needs the history store, which is down')
        return
      }
    }
    if (this.#byRoom.get(feed.room) === feed) feed.finishCatchUp(snapshot)
  }

  /** A feed saw a gap or a reset: catch it up now (while the link is down, {@link restore} does). */
  #request(feed: RoomFeed): void {
    const { link, log } = this.#ctx
    if (link.state.status !== 'up') return
    const running = this.#catchingUp.get(feed)
    if (running !== undefined) {
      running.again = true
      return
    }
    const run = { again: true }
    this.#catchingUp.set(feed, run)
    void (async () => {
      try {
        while (run.again && this.#byRoom.get(feed.room) === feed) {
          run.again = false
          await this.#catchUp(feed, link.require(`catching up ${feed.room}`))
        }
      } catch (err) {
        log?.warn({ err, room: feed.room }, 'catching up a room failed; retrying')
      } finally {
        this.#catchingUp.delete(feed)
      }
    })()
  }
}
