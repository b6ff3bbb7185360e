import { randomBytes } from 'node:crypto'
import type { DirectEventMessage, Member } from '@roomwire/protocol'
import type {
  AdapterConfig,
  AdapterHealth,
  AdapterNode,
  AdapterRoomInfo,
  AdapterStats,
  ConnectionTarget,
  HistoryPageResult,
  HistoryRequest,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
} from '../adapter'
import { RoomServerError } from '../errors'
import { ChannelRouter } from './channel-router'
import { type AdapterContext, fencedError, runStore } from './context'
import { IdleStats, idleSweeper } from './idle-rooms'
import { type KeyLayout, keyLayout } from './keys'
import { NodeRegistry } from './node-registry'
import { reapDeadNodes, reaperScripts } from './reaper'
import { type RedisAdapterOptions, type ResolvedRedisOptions, resolveRedisOptions } from './redis-options'
import { RoomFeeds } from './room-feeds'
import { roomScripts } from './room-scripts'
import { execReply } from './script-reply'
import { parseMembers, type RoomLimits } from './script-shared'
import { joinFromStore, pageFromStore, seeded } from './store-fill'
import { redactRedisUrl, StoreLink } from './store-link'
import { StoredPublisher } from './stored-publish'

export type { RedisAdapterOptions } from './redis-options'

/** What exists once the server attached the adapter. */
interface Attached {
  ctx: AdapterContext
  feeds: RoomFeeds
  registry: NodeRegistry
  idle: IdleStats
  /** With a history store, publishing through it (issue 18). */
  stored: StoredPublisher | undefined
}

const noop = () => {}

/**
 * A {@link RoomAdapter} that spans every server process sharing one Redis: seq, history, dedupe and
 * membership live in Redis, each change is one Lua script that also PUBLISHes the frame on the room's
 * channel, and every node delivers what its subscriber receives, in seq order. Nodes keep a heartbeat key
 * with a TTL; the survivors remove a dead node's members. While Redis is unreachable (or the link
 * stalled) the node keeps serving its local connections but refuses what needs the cluster; once back it
 * registers again, re-registers its members and replays to them what they missed (after a `reset` when
 * the store lost the room).
 * @example
 * import { createRoomServer } from '@roomwire/server'
 * import { createRedisAdapter } from '@roomwire/server/redis'
 *
 * const server = createRoomServer({ port: 8081, adapter: createRedisAdapter({ url: 'redis://127.0.0.1:6379' }) })
 */
export function createRedisAdapter(options: RedisAdapterOptions = {}): RoomAdapter {
  return new RedisAdapter(resolveRedisOptions(options))
}

/**
 * The adapter's methods over its parts: {@link StoreLink} (connections, liveness), {@link RoomFeeds} (seq
 * order), {@link NodeRegistry} (rooms to sync, upkeep), {@link ChannelRouter}, a call per Lua script.
 */
class RedisAdapter implements RoomAdapter {
  readonly #options: ResolvedRedisOptions
  readonly #keys: KeyLayout
  #state: Attached | undefined
  #closed = false
  /** Each publish is one script on one connection, unless a history store assigns the seqs (issue 18). */
  publishesInOrder = false

  constructor(options: ResolvedRedisOptions) {
    this.#options = options
    this.#keys = keyLayout(options.prefix)
  }

  get #attached(): Attached {
    if (this.#state === undefined) {
      throw new RoomServerError('unavailable', 'the Redis adapter is used before attach()')
    }
    return this.#state
  }

  async attach(node: AdapterNode, config: AdapterConfig): Promise<void> {
    const store = config.historyStore
    if (store !== undefined && store.appendNext === undefined) {
      throw new RoomServerError(
        'invalid_config',
        'the Redis adapter needs a history store that assigns seqs (appendNext), such as createPostgresHistory',
      )
    }
    const options = this.#options
    const keys = this.#keys
    const limits: RoomLimits = {
      historySize: config.historySize,
      historyMaxBytes: config.historyMaxBytes,
      idleTimeoutMs: config.idleTimeoutMs,
      maxIdleRooms: options.maxIdleRooms,
      maxIdleHistoryBytes: options.maxIdleHistoryBytes,
    }
    const link = new StoreLink({ ...options.link, keys })
    const ctx: AdapterContext = {
      node,
      link,
      keys,
      log: options.logger,
      commandTimeoutMs: options.commandTimeoutMs,
      clock: options.link.clock,
      rooms: roomScripts(link.cmd, keys, limits),
      store,
      replayLimits: limits,
    }
    const reaper = reaperScripts(link.cmd)
    const idle = new IdleStats(link.cmd, keys, limits)
    const feeds = new RoomFeeds(ctx, (room): ((idleOver: boolean) => void) => registry.syncing(room))
    const registry = new NodeRegistry(ctx, feeds, {
      reap: (scope) =>
        reapDeadNodes({ redis: link.cmd, keys, nodeId: scope.nodeId, scripts: reaper, limits }),
      sweepIdleRooms: idleSweeper(link.cmd, keys, limits, idle),
      countIdleRooms: () => idle.refresh(),
    })
    const sweep = () => registry.sweepSoon()
    const stored = store && new StoredPublisher(ctx, store, feeds, options.link.clock, sweep)
    this.#state = { ctx, feeds, registry, idle, stored }
    this.publishesInOrder = stored === undefined
    const router = new ChannelRouter(keys, node.nodeId, {
      direct: (target, message) => node.deliverDirect(target, message),
      probe: (probe) => link.probeArrived(probe),
      feed: (channel) => feeds.byChannel(channel),
    })
    link.start(node.nodeId, {
      message(channel, payload) {
        try {
          router.route(channel, payload)
        } catch (err) {
          options.logger?.error({ err, channel }, 'a frame from Redis could not be delivered')
        }
      },
      restore: (scope) => registry.restore(scope),
      lost: () => feeds.suspendAll(),
      maintain: (scope) => registry.maintain(scope),
    })
    // Start degraded rather than not at all if Redis is away.
    if (!(await link.whenRegistered(options.connectTimeoutMs)) && !this.#closed) {
      options.logger?.warn({ url: redactRedisUrl(options.url) }, 'starting without the cluster store')
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#state === undefined) return
    const { ctx, feeds, registry } = this.#state
    await registry.close()
    await ctx.link.close(() => registry.farewell())
    feeds.clear()
  }

  health(): AdapterHealth {
    if (this.#closed) return { up: false, reason: 'the Redis adapter is closed' }
    return this.#state?.ctx.link.health() ?? { up: false, reason: 'the Redis adapter is not attached yet' }
  }

  /**
   * The idle rooms Redis keeps for the cluster (the same on every node), their history bytes, and the rooms
   * this node's sweeps freed early; read every `reapIntervalMs` while the link is up (IdleStats).
   */
  stats(): AdapterStats {
    return (
      this.#state?.idle.snapshot ?? { idleRooms: 0, historyBytes: 0, idleRoomsEvicted: 0, historyEvicted: 0 }
    )
  }

  addConnection(id: string): Promise<void> {
    return this.#attached.registry.addConnection(id)
  }

  removeConnection(id: string): Promise<void> {
    return this.#attached.registry.removeConnection(id)
  }

  async join(room: string, member: Member, replay: ReplayRequest, maxMembers: number): Promise<JoinResult> {
    const what = `join of ${room}`
    const { ctx, feeds, registry } = this.#attached
    const { link, rooms, commandTimeoutMs } = ctx
    const scope = link.require(what)
    const feed = feeds.open(room)
    const wasMember = feed.members.has(member.id)
    feed.pending.add(member)
    try {
      return await runStore(link, what, async () => {
        // Subscribe before reading the seq (invariant 4): every later frame reaches this node.
        await feeds.subscribe(feed)
        const mark = randomBytes(9).toString('base64url')
        const caughtUp = feed.waitMark(mark, commandTimeoutMs)
        caughtUp.promise.catch(noop)
        const reply = await seeded(ctx.store, room, what, (seed) =>
          rooms.join(scope, { room, member, maxMembers, replay, mark, seed }),
        ).catch((err: unknown) => {
          caughtUp.cancel()
          // The script may still have run (a timeout): the member must not stay behind as a ghost. The
          // leave goes on the same connection, so it runs after the join if the join runs at all.
          if (!wasMember) void registry.removeMember(room, member.id)
          throw err
        })
        if (!reply.ok) {
          caughtUp.cancel()
          if (reply.reason === 'full') return { ok: false, reason: 'room_full' } as const
          throw fencedError(link, what)
        }
        // Invariant 4 with asynchronous pub/sub: every frame up to the seq read is delivered here first.
        if (
          !(await caughtUp.promise.then(
            () => true,
            () => false,
          ))
        ) {
          // Added and announced, but this node cannot hear the room: take the member back (issue 13: it
          // stayed a ghost without member_left), and have the link probed.
          if (!wasMember) await registry.removeMember(room, member.id)
          link.suspect()
          throw link.unavailable(what)
        }
        if (!feed.members.has(member.id) && !feed.pending.departed(member.id))
          feed.members.set(member.id, member)
        feed.joined(reply.epoch, reply.seq, reply.members, mark)
        const { replay: frames, recovered } =
          ctx.store === undefined
            ? reply
            : await joinFromStore(ctx.store, room, reply, replay, ctx.replayLimits)
        const result: JoinResult = {
          ok: true,
          seq: reply.seq,
          epoch: reply.epoch,
          members: reply.members,
          replay: frames.map((frame) => frame.encoded),
          rejoined: reply.rejoined,
        }
        if (recovered !== undefined) result.recovered = recovered
        return result
      })
    } finally {
      feed.pending.done(member.id)
      feeds.release(feed)
    }
  }

  async leave(room: string, id: string): Promise<void> {
    const { feeds, registry } = this.#attached
    feeds.leave(room, id)
    if (this.#closed) return
    await registry.removeMember(room, id)
  }

  async setPresence(room: string, id: string, presence: unknown): Promise<boolean> {
    const what = `presence in ${room}`
    const { ctx, feeds } = this.#attached
    const feed = feeds.get(room)
    const member = feed?.members.get(id)
    if (feed === undefined || member === undefined) return false
    const scope = ctx.link.require(what)
    const next: Member = { ...member, presence }
    const reply = await runStore(ctx.link, what, () => ctx.rooms.presence(scope, room, next))
    if (!reply.ok) throw fencedError(ctx.link, what)
    if (!reply.updated) return false
    if (feed.members.has(id)) feed.members.set(id, next)
    return true
  }

  async publish(room: string, input: PublishInput): Promise<PublishResult> {
    const what = `publish to ${room}`
    const { ctx, feeds, registry, stored } = this.#attached
    if (stored !== undefined) return stored.publish(room, input)
    const { link, commandTimeoutMs } = ctx
    const scope = link.require(what)
    const reply = await runStore(link, what, () => ctx.rooms.publish(scope, room, input))
    if (!reply.ok) throw fencedError(link, what)
    if (reply.idleOver) registry.sweepSoon()
    // The ack follows the room frames before it (PROTOCOL.md, `ack`): settle once this node delivered the
    // message, which its subscriber hears after the script's reply (issue 13: acks overtook frames).
    const feed = feeds.get(room)
    if (feed !== undefined && feed.members.size > 0) {
      const delivered = await feed.delivered(reply.epoch, reply.seq, commandTimeoutMs)
      // Still acked: the message is published, and refusing it would make a retry without an id publish it
      // twice. The subscriber may have stalled: the probe finds out, and then the link goes down and the
      // room catches up from the history once it is back. The client holds the gap the ack leaves until
      // the frames come, or rejoins with `since`.
      if (!delivered) link.suspect()
    }
    return { seq: reply.seq, epoch: reply.epoch, duplicate: reply.duplicate }
  }

  async sendDirect(to: string, message: DirectEventMessage): Promise<boolean> {
    const { node, link } = this.#attached.ctx
    if (node.deliverDirect({ kind: 'only', ids: [to] }, message) > 0) return true
    link.require('direct message')
    return runStore(link, 'direct message', () =>
      link.scripts.direct(node.nodeId, to, JSON.stringify(message)),
    )
  }

  async broadcastDirect(target: ConnectionTarget, message: DirectEventMessage): Promise<void> {
    const { node, link } = this.#attached.ctx
    node.deliverDirect(target, message)
    link.require('direct broadcast')
    await runStore(link, 'direct broadcast', () =>
      link.cmd.publish(this.#keys.direct, `${node.nodeId}\n${JSON.stringify({ target, message })}`),
    )
  }

  async roomInfo(room: string): Promise<AdapterRoomInfo | null> {
    const { link } = this.#attached.ctx
    link.require('room info')
    const { state, members } = this.#keys.room(room)
    const reply = execReply(
      'room info',
      await runStore(link, 'room info', () =>
        link.cmd.multi().hmget(state, 'epoch', 'seq').hvals(members).exec(),
      ),
    )
    const fields = reply.list()
    const [epoch, seq] = [fields.stringOrNil(), fields.stringOrNil()]
    const held = parseMembers(reply.strings())
    return epoch === undefined ? null : { seq: Number(seq ?? 0), epoch, members: held }
  }

  /** A page of the room's history: from the history store if there is one, else Redis's list. */
  async history(room: string, request: HistoryRequest): Promise<HistoryPageResult | null> {
    const { link, rooms, store, keys } = this.#attached.ctx
    link.require('history')
    if (store === undefined) {
      return runStore(link, 'history', () => rooms.historyPage(room, request.before, request.limit))
    }
    const epoch = await runStore(link, 'history', () => link.cmd.hget(keys.room(room).state, 'epoch'))
    return pageFromStore(store, room, epoch, request)
  }

  async rooms(): Promise<string[]> {
    const { link } = this.#attached.ctx
    link.require('room list')
    return runStore(link, 'room list', () => link.cmd.smembers(this.#keys.rooms))
  }
}
