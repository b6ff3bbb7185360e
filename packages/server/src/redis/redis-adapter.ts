import { randomBytes } from 'node:crypto'
import type { DirectEventMessage, Member } from '@roomwire/protocol'
import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type {
  AdapterConfig,
  AdapterHealth,
  AdapterNode,
  AdapterRoomInfo,
  ConnectionTarget,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
} from '../adapter'
import { RoomServerError } from '../errors'
import { newEpoch } from '../memory-adapter'
import { keyLayout } from './keys'
import { every, reapDeadNodes, type ScriptRunner } from './node-liveness'
import { type Frame, parseFrame, RoomFeed, type Snapshot } from './room-feed'
import * as lua from './scripts'

/** Options of {@link createRedisAdapter}. */
export interface RedisAdapterOptions {
  /**
   * The Redis to share (`redis://` or `rediss://`, with user, password and db as usual).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /** More ioredis options (TLS, sentinels...). The adapter's own timeouts and retry settings win. */
  redisOptions?: Omit<RedisOptions, 'replyMapping'>
  /**
   * Prefix of every key and channel, so several clusters (or tests) can share one Redis.
   * @default 'roomwire:'
   */
  keyPrefix?: string
  /**
   * Lifetime of this node's heartbeat key: a node silent this long is dead, and its members are removed.
   * @default 5000
   */
  nodeTtlMs?: number
  /**
   * How often the heartbeat key is refreshed (well under `nodeTtlMs`).
   * @default 1500
   */
  heartbeatIntervalMs?: number
  /**
   * How often this node looks for dead nodes to reap.
   * @default 1500
   */
  reapIntervalMs?: number
  /**
   * A Redis command that takes longer fails: a publish is refused rather than left hanging.
   * @default 2000
   */
  commandTimeoutMs?: number
  /**
   * How long `attach` (the server's `ready`) waits for Redis before the server starts degraded.
   * @default 5000
   */
  connectTimeoutMs?: number
  /**
   * Longest pause between reconnection attempts.
   * @default 1000
   */
  maxReconnectDelayMs?: number
  /** A pino logger for store outages and recoveries. @default silent */
  logger?: Logger
}

type Json = string | number

function defineScript(redis: Redis, name: string, numberOfKeys: number, script: string): ScriptRunner {
  redis.defineCommand(name, { numberOfKeys, lua: script })
  const commands = redis as unknown as Record<string, (...args: Json[]) => Promise<unknown>>
  return (keys, args) => commands[name]!(...keys, ...args)
}

function parseMember(json: string): Member {
  return JSON.parse(json) as Member
}

/** A join's replay as stored (`skip\nframe`, newest first): the frames' text, oldest first. */
function parseReplay(raw: string[]): string[] {
  const out: string[] = []
  for (let i = raw.length - 1; i >= 0; i--) {
    const frame = parseFrame(raw[i]!)
    if (frame !== undefined && 'message' in frame && frame.message.type === 'message') out.push(frame.encoded)
  }
  return out
}

/**
 * A {@link RoomAdapter} that spans every server process sharing one Redis: seq, history, dedupe and
 * membership live in Redis, each change is one Lua script that also PUBLISHes the frame on the room's
 * channel, and every node delivers what its subscriber receives, in seq order. Nodes keep a heartbeat key
 * with a TTL; the survivors remove a dead node's members. While Redis is unreachable the node keeps
 * serving its local connections but refuses what needs a cluster seq; once back it resubscribes,
 * re-registers its members and replays to them what they missed (or sends `reset`).
 * @example
 * import { createRoomServer } from '@roomwire/server'
 * import { createRedisAdapter } from '@roomwire/server/redis'
 *
 * const server = createRoomServer({ port: 8081, adapter: createRedisAdapter({ url: 'redis://127.0.0.1:6379' }) })
 */
export function createRedisAdapter(options: RedisAdapterOptions = {}): RoomAdapter {
  const url = options.url ?? 'redis://127.0.0.1:6379'
  const prefix = options.keyPrefix ?? 'roomwire:'
  const keys = keyLayout(prefix)
  const nodeTtlMs = options.nodeTtlMs ?? 5000
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1500
  const reapIntervalMs = options.reapIntervalMs ?? 1500
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 1000
  const commandTimeoutMs = options.commandTimeoutMs ?? 2000
  const log = options.logger
  const redisOptions: Omit<RedisOptions, 'replyMapping'> = {
    ...options.redisOptions,
    lazyConnect: true,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.min(connectTimeoutMs, 10_000),
    // Never queue or resend a command while disconnected: a resent publish script could publish twice,
    // and a queued one would hang its ack. A caller gets an error at once and retries with its id.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The adapter resubscribes itself, so it knows when it is receiving again and can catch up.
    autoResubscribe: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxReconnectDelayMs),
  }
  const cmd = new Redis(url, redisOptions)
  const sub = new Redis(url, redisOptions)
  const script = {
    join: defineScript(cmd, 'roomwireJoin', 7, lua.JOIN_SCRIPT),
    publish: defineScript(cmd, 'roomwirePublish', 6, lua.PUBLISH_SCRIPT),
    leave: defineScript(cmd, 'roomwireLeave', 6, lua.LEAVE_SCRIPT),
    presence: defineScript(cmd, 'roomwirePresence', 1, lua.PRESENCE_SCRIPT),
    reap: defineScript(cmd, 'roomwireReap', 7, lua.REAP_SCRIPT),
    forget: defineScript(cmd, 'roomwireForget', 5, lua.FORGET_SCRIPT),
    sync: defineScript(cmd, 'roomwireSync', 7, lua.SYNC_SCRIPT),
    heartbeat: defineScript(cmd, 'roomwireHeartbeat', 2, lua.HEARTBEAT_SCRIPT),
    direct: defineScript(cmd, 'roomwireDirect', 1, lua.DIRECT_SCRIPT),
  }

  const feeds = new Map<string, RoomFeed>()
  const feedsByChannel = new Map<string, RoomFeed>()
  const connections = new Set<string>()
  /** Rooms whose membership in Redis may not match this node's (a leave failed): synced on recovery. */
  const dirty = new Set<string>()
  let node: AdapterNode | undefined
  let config: AdapterConfig | undefined
  let closed = false
  let registered = false
  let recovering: Promise<void> | undefined
  let needsRecovery = true
  let lastError: string | undefined
  const stops: (() => Promise<void>)[] = []

  const attached = () => {
    if (node === undefined || config === undefined) {
      throw new RoomServerError('unavailable', 'the Redis adapter is used before attach()')
    }
    return { node, config }
  }

  const connected = () => cmd.status === 'ready' && sub.status === 'ready'

  function storeError(err: unknown, what: string): RoomServerError {
    if (err instanceof RoomServerError) return err
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof Error && err.name === 'ReplyError') {
      return new RoomServerError('adapter_failed', `${what} failed in Redis: ${message}`, { cause: err })
    }
    return new RoomServerError(
      'unavailable',
      `${what} refused: the cluster store (Redis) is unavailable (${message}); retry shortly`,
      { cause: err },
    )
  }

  async function run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (closed) throw new RoomServerError('closed', `${what} refused: the Redis adapter is closed`)
    try {
      return await work()
    } catch (err) {
      throw storeError(err, what)
    }
  }

  // ---- Frames from the subscriber -------------------------------------------------------------------

  function onMessage(channel: string, payload: string): void {
    try {
      if (channel === keys.node(attached().node.nodeId)) {
        const cut = payload.indexOf('\n')
        const message = JSON.parse(payload.slice(cut + 1)) as DirectEventMessage
        node!.deliverDirect({ kind: 'only', ids: [payload.slice(0, cut)] }, message)
        return
      }
      if (channel === keys.direct) {
        const cut = payload.indexOf('\n')
        if (payload.slice(0, cut) === node!.nodeId) return
        const { target, message } = JSON.parse(payload.slice(cut + 1)) as {
          target: ConnectionTarget
          message: DirectEventMessage
        }
        node!.deliverDirect(target, message)
        return
      }
      const feed = feedsByChannel.get(channel)
      const frame = feed === undefined ? undefined : parseFrame(payload)
      if (frame !== undefined) feed!.receive(frame)
    } catch (err) {
      log?.error({ err, channel }, 'a frame from Redis could not be delivered')
    }
  }

  // ---- Room feeds and subscriptions -----------------------------------------------------------------

  function openFeed(room: string): RoomFeed {
    let feed = feeds.get(room)
    if (feed === undefined) {
      feed = new RoomFeed(room, keys.roomChannel(room), attached().node, (f) => void catchUp(f))
      feeds.set(room, feed)
      feedsByChannel.set(feed.channel, feed)
    }
    return feed
  }

  function releaseFeed(feed: RoomFeed): void {
    if (!feed.idle || feeds.get(feed.room) !== feed) return
    feeds.delete(feed.room)
    feedsByChannel.delete(feed.channel)
    if (sub.status === 'ready') sub.unsubscribe(feed.channel).catch(() => undefined)
  }

  async function subscribed(feed: RoomFeed): Promise<void> {
    feed.subscribed ??= sub.subscribe(feed.channel)
    try {
      await feed.subscribed
    } catch (err) {
      feed.subscribed = undefined
      throw err
    }
  }

  function syncArgs(room: string, members: Iterable<Member>, since?: { since: number; epoch: string }) {
    const epoch = newEpoch()
    const args: Json[] = [
      room,
      keys.roomChannel(room),
      attached().node.nodeId,
      JSON.stringify(room),
      epoch,
      JSON.stringify({ type: 'reset', room, epoch, seq: 0 }),
      attached().config.idleTimeoutMs,
      since === undefined ? '' : since.since,
      since === undefined ? '' : since.epoch,
    ]
    const list = [...members]
    args.push(list.length)
    for (const member of list) {
      args.push(member.id, JSON.stringify(member), JSON.stringify({ type: 'member_joined', room, member }))
    }
    return args
  }

  async function sync(
    room: string,
    members: Iterable<Member>,
    since?: { since: number; epoch: string },
  ): Promise<Snapshot> {
    const [epoch, seq, recovered, memberJson, replay] = (await script.sync(
      [...keys.room(room), keys.rooms, keys.nodeRooms(attached().node.nodeId)],
      syncArgs(room, members, since),
    )) as [string, number, -1 | 0 | 1, string[], string[]]
    const frames: Frame[] = []
    for (let i = replay.length - 1; i >= 0; i--) {
      const frame = parseFrame(replay[i]!)
      if (frame !== undefined && 'message' in frame) frames.push(frame)
    }
    return { epoch, seq: Number(seq), recovered, members: memberJson.map(parseMember), replay: frames }
  }

  /** Re-register a feed's members and read what its members missed; on failure, recovery retries. */
  async function catchUp(feed: RoomFeed): Promise<void> {
    feed.suspend()
    try {
      const snapshot = await sync(feed.room, feed.members.values(), feed.position)
      if (feeds.get(feed.room) === feed) feed.finishCatchUp(snapshot)
    } catch (err) {
      needsRecovery = true
      log?.warn({ err, room: feed.room }, 'catching up a room failed; retrying when Redis is back')
    }
  }

  // ---- Recovery: (re)register this node, resubscribe, catch every room up ---------------------------

  async function recover(): Promise<void> {
    const { nodeId } = attached().node
    needsRecovery = false
    try {
      for (const feed of feeds.values()) feed.suspend()
      await sub.subscribe(keys.node(nodeId), keys.direct, ...[...feeds.values()].map((f) => f.channel))
      await script.heartbeat([keys.node(nodeId), keys.nodes], [nodeId, nodeTtlMs])
      if (connections.size > 0) {
        await cmd
          .multi()
          .hset(keys.conns, ...[...connections].flatMap((id) => [id, nodeId]))
          .sadd(keys.nodeConns(nodeId), ...connections)
          .exec()
      }
      for (const room of [...dirty]) {
        if (!feeds.has(room)) await sync(room, [])
        dirty.delete(room)
      }
      for (const feed of [...feeds.values()]) {
        const snapshot = await sync(feed.room, feed.members.values(), feed.position)
        if (feeds.get(feed.room) === feed) feed.finishCatchUp(snapshot)
      }
      if (!registered || lastError !== undefined) log?.info({ nodeId }, 'cluster store (Redis) available')
      registered = true
      lastError = undefined
    } catch (err) {
      needsRecovery = true
      lastError ??= err instanceof Error ? err.message : String(err)
      log?.warn({ err }, 'registering with the cluster store failed; retrying')
    }
  }

  function scheduleRecovery(): Promise<void> {
    if (closed || !connected()) return Promise.resolve()
    recovering ??= (async () => {
      while (needsRecovery && connected() && !closed) await recover()
    })().finally(() => {
      recovering = undefined
    })
    return recovering
  }

  function onDown(which: string) {
    return () => {
      if (closed) return
      if (lastError === undefined) log?.warn({ which }, 'cluster store (Redis) connection lost')
      lastError ??= `the ${which} connection to Redis closed`
      needsRecovery = true
      // Frames published while this node cannot hear them are read back from the history on recovery.
      if (which === 'subscriber') for (const feed of feeds.values()) feed.suspend()
    }
  }

  for (const [client, which] of [
    [cmd, 'command'],
    [sub, 'subscriber'],
  ] as const) {
    client.on('error', (err: Error) => {
      lastError = err.message
      log?.debug({ err, which }, 'Redis connection error')
    })
    client.on('close', onDown(which))
    client.on('ready', () => void scheduleRecovery())
  }
  sub.on('message', onMessage)

  async function heartbeatTick(): Promise<void> {
    if (!connected()) return
    if (needsRecovery) return scheduleRecovery()
    try {
      const { nodeId } = attached().node
      const alive = await script.heartbeat([keys.node(nodeId), keys.nodes], [nodeId, nodeTtlMs])
      if (alive === 0) {
        // Our key lapsed (a long pause or a partition): other nodes may have removed our members.
        log?.warn({ nodeId }, 'heartbeat key had expired; re-registering this node')
        needsRecovery = true
        await scheduleRecovery()
      }
    } catch (err) {
      log?.debug({ err }, 'heartbeat failed')
    }
  }

  async function reapTick(): Promise<void> {
    if (!connected() || needsRecovery) return
    try {
      const removed = await reapDeadNodes({
        redis: cmd,
        keys,
        nodeId: attached().node.nodeId,
        reap: script.reap,
        forget: script.forget,
        idleTimeoutMs: attached().config.idleTimeoutMs,
      })
      if (removed > 0) log?.info({ removed }, 'removed the members of dead nodes')
    } catch (err) {
      log?.debug({ err }, 'reaping dead nodes failed')
    }
  }

  // ---- The adapter --------------------------------------------------------------------------------

  const adapter: RoomAdapter = {
    async attach(n, c) {
      node = n
      config = c
      stops.push(every(heartbeatIntervalMs, heartbeatTick), every(reapIntervalMs, reapTick))
      cmd.connect().catch(() => undefined)
      sub.connect().catch(() => undefined)
      // Wait for the first registration, but start degraded rather than not at all if Redis is away.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, connectTimeoutMs)
        timer.unref()
        const check = setInterval(() => {
          if (registered || closed) done()
        }, 10)
        check.unref()
        function done() {
          clearTimeout(timer)
          clearInterval(check)
          if (!registered) log?.warn({ url: redactRedisUrl(url) }, 'starting without the cluster store')
          resolve()
        }
      })
    },

    async close() {
      if (closed) return
      closed = true
      // A heartbeat still running would otherwise register this node again after it left.
      await Promise.all(stops.splice(0).map((stop) => stop()))
      await recovering?.catch(() => undefined)
      if (node !== undefined && cmd.status === 'ready') {
        const { nodeId } = node
        const multi = cmd.multi()
        if (connections.size > 0) multi.hdel(keys.conns, ...connections)
        await multi
          .del(keys.node(nodeId), keys.nodeConns(nodeId), keys.nodeRooms(nodeId))
          .srem(keys.nodes, nodeId)
          .exec()
          .catch(() => undefined)
      }
      feeds.clear()
      feedsByChannel.clear()
      connections.clear()
      await Promise.all([cmd, sub].map((client) => client.quit().catch(() => client.disconnect())))
      cmd.disconnect()
      sub.disconnect()
    },

    health(): AdapterHealth {
      if (closed) return { up: false, reason: 'the Redis adapter is closed' }
      if (connected() && !needsRecovery && registered) return { up: true }
      return {
        up: false,
        reason: `cluster store (Redis at ${redactRedisUrl(url)}) unavailable: ${lastError ?? 'connecting'}`,
      }
    },

    async addConnection(id) {
      connections.add(id)
      const { nodeId } = attached().node
      await run('registering the connection', () =>
        cmd.multi().hset(keys.conns, id, nodeId).sadd(keys.nodeConns(nodeId), id).exec(),
      ).catch((err: unknown) => {
        // Registered again on recovery; meanwhile direct messages from other nodes cannot reach it.
        needsRecovery = true
        throw err
      })
    },

    async removeConnection(id) {
      connections.delete(id)
      if (closed) return
      const { nodeId } = attached().node
      await cmd
        .multi()
        .hdel(keys.conns, id)
        .srem(keys.nodeConns(nodeId), id)
        .exec()
        .catch((err: unknown) => log?.warn({ err }, 'unregistering a connection failed'))
    },

    async join(room, member, replay: ReplayRequest, maxMembers): Promise<JoinResult> {
      const { nodeId } = attached().node
      const feed = openFeed(room)
      feed.joining++
      try {
        return await run(`join of ${room}`, async () => {
          // Subscribe before reading the seq (invariant 4): every later frame reaches this node.
          await subscribed(feed)
          const epoch = newEpoch()
          const mark = randomBytes(9).toString('base64url')
          const caughtUp = feed.waitMark(mark, commandTimeoutMs)
          caughtUp.promise.catch(() => undefined)
          const reply = (await script
            .join(
              [...keys.room(room), keys.rooms, keys.nodeRooms(nodeId)],
              [
                room,
                feed.channel,
                member.id,
                JSON.stringify(member),
                nodeId,
                maxMembers,
                epoch,
                JSON.stringify({ type: 'reset', room, epoch, seq: 0 }),
                replay.since ?? '',
                replay.epoch ?? '',
                replay.history ?? 0,
                JSON.stringify({ type: 'member_joined', room, member }),
                mark,
              ],
            )
            .catch((err: unknown) => {
              caughtUp.cancel()
              throw err
            })) as 'full' | [string, number, number, number, string[], string[]]
          if (reply === 'full') {
            caughtUp.cancel()
            return { ok: false, reason: 'room_full' } as const
          }
          // Invariant 4 with asynchronous pub/sub: every frame up to the seq read is delivered here first.
          await caughtUp.promise
          const [roomEpoch, seq, rejoined, recovered, memberJson, raw] = reply
          const members = memberJson.map(parseMember)
          if (!feed.members.has(member.id)) feed.members.set(member.id, member)
          feed.joined(roomEpoch, Number(seq), members)
          const result: JoinResult = {
            ok: true,
            seq: Number(seq),
            epoch: roomEpoch,
            members,
            replay: parseReplay(raw),
            rejoined: rejoined === 1,
          }
          if (recovered !== -1) result.recovered = recovered === 1
          return result
        })
      } finally {
        feed.joining--
        releaseFeed(feed)
      }
    },

    async leave(room, id) {
      const feed = feeds.get(room)
      feed?.members.delete(id)
      if (feed !== undefined) releaseFeed(feed)
      if (closed) return
      try {
        await script.leave(
          [...keys.room(room), keys.rooms],
          [
            room,
            keys.roomChannel(room),
            id,
            JSON.stringify({ type: 'member_left', room, id }),
            attached().config.idleTimeoutMs,
          ],
        )
      } catch (err) {
        // The member is gone here; Redis learns it on recovery (and the others get member_left then).
        dirty.add(room)
        needsRecovery = true
        log?.warn({ err, room }, 'a leave could not reach the cluster store; it is applied on recovery')
      }
    },

    async setPresence(room, id, state) {
      const feed = feeds.get(room)
      const member = feed?.members.get(id)
      if (feed === undefined || member === undefined) return false
      const next: Member = { ...member, presence: state }
      const done = await run(`presence in ${room}`, () =>
        script.presence(
          [keys.room(room)[3]],
          [feed.channel, id, JSON.stringify(next), JSON.stringify({ type: 'presence', room, id, state })],
        ),
      )
      if (done !== 1) return false
      if (feed.members.has(id)) feed.members.set(id, next)
      return true
    },

    async publish(room, input: PublishInput): Promise<PublishResult> {
      const { config: c } = attached()
      const head =
        `{"type":"message","room":${JSON.stringify(room)},"event":${JSON.stringify(input.event)},` +
        `"data":${JSON.stringify(input.data) ?? 'null'},"from":${JSON.stringify(input.from)},"seq":`
      const tail = `,"ts":${JSON.stringify(input.ts)}${input.id === undefined ? '' : `,"id":${JSON.stringify(input.id)}`}}`
      const epoch = newEpoch()
      const [roomEpoch, seq, duplicate] = (await run(`publish to ${room}`, () =>
        script.publish(
          [...keys.room(room), keys.rooms],
          [
            room,
            keys.roomChannel(room),
            head,
            tail,
            input.skip ?? '',
            input.id ?? '',
            c.historySize,
            epoch,
            JSON.stringify({ type: 'reset', room, epoch, seq: 0 }),
            c.idleTimeoutMs,
          ],
        ),
      )) as [string, number, number]
      return { seq: Number(seq), epoch: roomEpoch, duplicate: duplicate === 1 }
    },

    async sendDirect(to, message) {
      const { node: n } = attached()
      if (n.deliverDirect({ kind: 'only', ids: [to] }, message) > 0) return true
      const received = await run('direct message', () =>
        script.direct([keys.conns], [to, n.nodeId, prefix, JSON.stringify(message)]),
      )
      return Number(received) > 0
    },

    async broadcastDirect(target, message) {
      const { node: n } = attached()
      n.deliverDirect(target, message)
      await run('direct broadcast', () =>
        cmd.publish(keys.direct, `${n.nodeId}\n${JSON.stringify({ target, message })}`),
      )
    },

    async roomInfo(room): Promise<AdapterRoomInfo | null> {
      const [state, , , members] = keys.room(room)
      const replies = await run('room info', () =>
        cmd.multi().hmget(state, 'epoch', 'seq').hvals(members).exec(),
      )
      const [epoch, seq] = (replies?.[0]?.[1] ?? []) as (string | null)[]
      if (epoch === null || epoch === undefined) return null
      const values = (replies?.[1]?.[1] ?? []) as string[]
      return { seq: Number(seq ?? 0), epoch, members: values.map(parseMember) }
    },

    async rooms() {
      return run('room list', () => cmd.smembers(keys.rooms))
    },
  }
  return adapter
}

/** A Redis URL fit for logs: the password replaced. */
function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis'
  }
}
