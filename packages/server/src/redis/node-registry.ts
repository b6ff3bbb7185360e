import { type AdapterContext, fencedError, runStore } from './context'
import type { RoomFeeds } from './room-feeds'
import type { NodeScope } from './script-shared'

/** The cluster upkeep a {@link NodeRegistry} runs while the link is up. */
export interface Upkeep {
  /** Remove the members of dead nodes (reaper.ts). */
  reap(scope: NodeScope): Promise<{ removed: number; idleOver: boolean }>
  /** Free idle rooms past their bounds (idle-rooms.ts). */
  sweepIdleRooms(): Promise<{ freed: number; over: boolean }>
  /** Read the idle index's numbers again, for the adapter's stats (idle-rooms.ts, IdleStats). */
  countIdleRooms(): Promise<void>
}

/**
 * The idle sweep: one at a time. Asked again while one runs, it runs once more right after (`again`);
 * one that failed (or was asked while closing) is `owed` to the next upkeep.
 */
type Sweep = { status: 'idle'; owed: boolean } | { status: 'running'; again: boolean; done: Promise<void> }

/**
 * What this node keeps registered in Redis beside its rooms' feeds: its connections (for direct messages
 * from other nodes) and the rooms whose membership in Redis may be wrong (a leave or an undone join that
 * did not reach Redis), both made right again as soon as the link allows; and the idle sweep.
 */
export class NodeRegistry {
  readonly #ctx: AdapterContext
  readonly #feeds: RoomFeeds
  readonly #upkeep: Upkeep
  readonly #connections = new Set<string>()
  /** Connections Redis does not know yet: a write failed while the link stayed up. */
  readonly #unregistered = new Set<string>()
  /**
   * Rooms to sync, each with the number of the last change that made it so: a sync clears a room only if
   * nothing marked it after the sync read its members (issue 13: a leave during a restore's sync was
   * cleared by that sync, which had registered the member again, and the member stayed a ghost).
   */
  readonly #dirty = new Map<string, number>()
  #changes = 0
  #sweep: Sweep = { status: 'idle', owed: false }
  #closed = false

  constructor(ctx: AdapterContext, feeds: RoomFeeds, upkeep: Upkeep) {
    this.#ctx = ctx
    this.#feeds = feeds
    this.#upkeep = upkeep
  }

  async addConnection(id: string): Promise<void> {
    this.#connections.add(id)
    const { link } = this.#ctx
    if (link.state.status !== 'up') return // registered on restore
    await runStore(link, 'registering the connection', () => this.#register([id])).catch((err: unknown) => {
      // Meanwhile direct messages from other nodes cannot reach it; the next upkeep registers it.
      this.#unregistered.add(id)
      throw err
    })
  }

  async removeConnection(id: string): Promise<void> {
    this.#connections.delete(id)
    this.#unregistered.delete(id)
    const { link, keys, node, log } = this.#ctx
    if (this.#closed || link.state.status !== 'up') return
    await link.cmd
      .multi()
      .hdel(keys.conns, id)
      .srem(keys.nodeConns(node.nodeId), id)
      .exec()
      .catch((err: unknown) => log?.warn({ err }, 'unregistering a connection failed'))
  }

  /** Remove a member from a room in Redis (announced), or mark the room to be synced when it cannot. */
  async removeMember(room: string, id: string): Promise<void> {
    const { link, rooms, log } = this.#ctx
    if (link.state.status !== 'up') {
      this.#markDirty(room)
      return
    }
    try {
      const reply = await rooms.leave(link.require(`leave of ${room}`), room, id)
      if (!reply.ok) {
        this.#markDirty(room)
        link.lapsed()
        return
      }
      if (reply.idleOver) this.sweepSoon()
    } catch (err) {
      // The member is gone here; Redis learns it when the link allows (and the others get member_left then).
      this.#markDirty(room)
      link.suspect()
      log?.warn({ err, room }, 'a leave could not reach the cluster store; it is applied later')
    }
  }

  /**
   * A sync of `room` reads its members now; call what this returns once the sync made Redis hold them.
   * A leave marked after this read is not undone by it: the room stays to be synced again.
   */
  syncing(room: string): (idleOver: boolean) => void {
    const seen = this.#dirty.get(room)
    return (idleOver) => {
      if (this.#dirty.get(room) === seen) this.#dirty.delete(room)
      if (idleOver) this.sweepSoon()
    }
  }

  #markDirty(room: string): void {
    this.#dirty.set(room, ++this.#changes)
  }

  /** Free idle rooms past their bounds, one sweep at a time. */
  sweepSoon(): void {
    const sweep = this.#sweep
    if (sweep.status === 'running') {
      sweep.again = true
      return
    }
    if (this.#closed) {
      this.#sweep = { status: 'idle', owed: true }
      return
    }
    const running: Sweep & { status: 'running' } = {
      status: 'running',
      again: false,
      done: Promise.resolve(),
    }
    this.#sweep = running
    running.done = this.#upkeep.sweepIdleRooms().then(
      ({ over }) => {
        this.#sweep = { status: 'idle', owed: false }
        // Still past a bound after its share: go on at once.
        if ((over || running.again) && !this.#closed) this.sweepSoon()
      },
      (err: unknown) => {
        // Tried again by the next upkeep, once the link is up.
        this.#sweep = { status: 'idle', owed: true }
        this.#ctx.log?.debug({ err }, 'sweeping idle rooms failed')
      },
    )
  }

  /** The node registered again: its connections, the rooms it left meanwhile, then every feed. */
  async restore(scope: NodeScope): Promise<void> {
    await this.#register([...this.#connections])
    for (const room of [...this.#dirty.keys()]) {
      if (this.#feeds.get(room) !== undefined) continue // the feed's catch-up syncs it
      await this.#sync(scope, room)
    }
    await this.#feeds.restore(scope)
  }

  /** Periodic upkeep while up: what failed while the link stayed up, dead nodes, idle rooms, their count. */
  async maintain(scope: NodeScope): Promise<void> {
    if (this.#unregistered.size > 0) await this.#register([...this.#unregistered])
    for (const room of [...this.#dirty.keys()]) await this.#sync(scope, room)
    this.#feeds.retryStalled()
    const { removed, idleOver } = await this.#upkeep.reap(scope)
    if (removed > 0) this.#ctx.log?.info({ removed }, 'removed the members of dead nodes')
    if (idleOver || (this.#sweep.status === 'idle' && this.#sweep.owed)) this.sweepSoon()
    await this.#upkeep.countIdleRooms()
  }

  /** Start no more work, and let a sweep in flight finish (the adapter closes). */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#sweep.status === 'running') await this.#sweep.done
  }

  /**
   * Last thing before the link quits: drop this node's heartbeat key, so the others see it gone at once,
   * and its connections. Its room sets and its entry in the node list stay for the reaper: a leave that
   * could not reach Redis (a stalled or fenced link just before the shutdown) left members here that only
   * a reap removes, and a node that forgot itself would leave them behind for good. For a node whose
   * members all left cleanly, the next reap finds nothing to announce and forgets it.
   */
  async farewell(): Promise<void> {
    const { link, keys, node } = this.#ctx
    const multi = link.cmd.multi()
    if (this.#connections.size > 0) multi.hdel(keys.conns, ...this.#connections)
    await multi.del(keys.node(node.nodeId)).exec()
    this.#connections.clear()
  }

  async #sync(scope: NodeScope, room: string): Promise<void> {
    const done = this.syncing(room)
    const reply = await this.#ctx.rooms.sync(scope, room, this.#feeds.get(room)?.local() ?? [], undefined)
    if (!reply.ok) throw fencedError(this.#ctx.link, `syncing ${room}`)
    done(reply.idleOver)
  }

  async #register(ids: string[]): Promise<void> {
    if (ids.length === 0) return
    const { link, keys, node } = this.#ctx
    await link.cmd
      .multi()
      .hset(keys.conns, ...ids.flatMap((id) => [id, node.nodeId]))
      .sadd(keys.nodeConns(node.nodeId), ...ids)
      .exec()
    for (const id of ids) this.#unregistered.delete(id)
  }
}
