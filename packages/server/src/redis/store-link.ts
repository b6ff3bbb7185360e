import { randomBytes } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type { AdapterHealth } from '../adapter'
import type { Clock, TimerHandle } from '../clock'
import { RoomServerError } from '../errors'
import type { KeyLayout } from './keys'
import { type NodeScripts, nodeScripts } from './node-scripts'
import { every } from './reaper'
import type { NodeScope } from './script-shared'

/**
 * Where the link to Redis stands. Only `up` accepts work that needs the cluster: the node is registered
 * under `generation`, both connections answer, and its state in Redis is restored.
 */
export type LinkState =
  | { status: 'connecting' }
  | { status: 'registering'; generation: string }
  | { status: 'up'; generation: string }
  | { status: 'down'; reason: string }
  | { status: 'closed' }

/** What a {@link StoreLink} needs; the adapter's options, resolved. */
export interface StoreLinkOptions {
  url: string
  redisOptions: Omit<RedisOptions, 'replyMapping'>
  keys: KeyLayout
  prefix: string
  nodeTtlMs: number
  heartbeatIntervalMs: number
  reapIntervalMs: number
  commandTimeoutMs: number
  logger: Logger | undefined
  clock: Clock
}

/** What the adapter does for its link. */
export interface LinkHooks {
  /** Everything the subscriber receives. */
  message(channel: string, payload: string): void
  /**
   * The node was registered under a new generation: subscribe its rooms again, register its connections
   * and members, and catch every room up. A throw makes the link retry.
   */
  restore(scope: NodeScope): Promise<void>
  /** The link went down: hold what the subscriber may miss. */
  lost(): void
  /** Periodic work while up: reaping dead nodes, retrying what failed. */
  maintain(scope: NodeScope): Promise<void>
}

const noop = () => {}
const token = () => randomBytes(9).toString('base64url')
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

/**
 * The node's two connections to Redis (commands, and the subscriber) and its registration in the cluster.
 * Every heartbeat also sends a probe to the node's own channel and waits to hear it: a link that stalled
 * without a reset (commands time out, or the subscriber hears nothing) is `down`, its connections are
 * dropped and made again, and once both answer the node registers under a new generation and the
 * adapter restores its state (issue 13: a stalled node said ok, acked nothing its members saw, and never
 * came back).
 */
export class StoreLink {
  readonly cmd: Redis
  readonly sub: Redis
  readonly #options: StoreLinkOptions
  readonly #scripts: NodeScripts
  #state: LinkState = { status: 'connecting' }
  #nodeId = ''
  #hooks: LinkHooks | undefined
  #lastError: string | undefined
  #registering: Promise<void> | undefined
  #probing: Promise<void> | undefined
  readonly #probes = new Map<string, () => void>()
  readonly #listeners = new Set<() => void>()
  readonly #stops: (() => Promise<void>)[] = []

  constructor(options: StoreLinkOptions) {
    this.#options = options
    this.cmd = new Redis(options.url, options.redisOptions)
    this.sub = new Redis(options.url, options.redisOptions)
    this.#scripts = nodeScripts(this.cmd, options.keys, options.prefix)
    for (const [client, which] of [
      [this.cmd, 'command'],
      [this.sub, 'subscriber'],
    ] as const) {
      client.on('error', (err: Error) => {
        this.#lastError = err.message
        options.logger?.debug({ err, which }, 'Redis connection error')
      })
      client.on('close', () => this.#down(`the ${which} connection to Redis closed`))
      client.on('ready', () => void this.#register())
    }
  }

  get state(): LinkState {
    return this.#state
  }

  /** Connect, register as `nodeId`, and keep the registration alive until {@link close}. */
  start(nodeId: string, hooks: LinkHooks): void {
    this.#nodeId = nodeId
    this.#hooks = hooks
    this.sub.on('message', (channel: string, payload: string) => hooks.message(channel, payload))
    const { heartbeatIntervalMs, reapIntervalMs, clock } = this.#options
    this.#stops.push(
      every(clock, heartbeatIntervalMs, () => this.#tick()),
      every(clock, reapIntervalMs, () => this.#maintain()),
    )
    this.cmd.connect().catch(noop)
    this.sub.connect().catch(noop)
  }

  /** Resolves true once the link is up, false if it is not within `timeoutMs` (or closed first). */
  whenRegistered(timeoutMs: number): Promise<boolean> {
    const settled = () => this.#state.status === 'up' || this.#state.status === 'closed'
    if (settled()) return Promise.resolve(this.#state.status === 'up')
    const { clock } = this.#options
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimeout(timer)
        this.#listeners.delete(check)
        resolve(this.#state.status === 'up')
      }
      const check = () => {
        if (settled()) done()
      }
      const timer = clock.setTimeout(done, timeoutMs)
      this.#listeners.add(check)
    })
  }

  /** The node's scope while up; otherwise throws the `unavailable` (or `closed`) error for `what`. */
  require(what: string): NodeScope {
    const state = this.#state
    if (state.status === 'up') return { nodeId: this.#nodeId, generation: state.generation }
    if (state.status === 'closed') {
      throw new RoomServerError('closed', `${what} refused: the Redis adapter is closed`)
    }
    throw this.unavailable(what)
  }

  /** The error for `what` refused while the store is unreachable. */
  unavailable(what: string): RoomServerError {
    return new RoomServerError(
      'unavailable',
      `${what} refused: the cluster store (Redis) is unavailable (${this.#detail()}); retry shortly`,
    )
  }

  /**
   * Something suggests the link stalled (a command timed out, a frame was not heard back on the
   * subscriber): probe it now. The probe alone decides, so a slow moment does not drop the connections.
   */
  suspect(): void {
    const state = this.#state
    if (state.status === 'up') void this.#probe(state.generation)
  }

  /** A script refused this node's generation: it lost its registration (reaped), so register again. */
  lapsed(): void {
    if (this.#state.status !== 'up' && this.#state.status !== 'registering') return
    this.#options.logger?.warn({ nodeId: this.#nodeId }, 'this node lost its registration; registering again')
    this.#down("this node's registration lapsed (it may have been reaped); registering again")
    void this.#register()
  }

  /** A probe token heard on this node's channel. */
  probeArrived(probe: string): void {
    this.#probes.get(probe)?.()
  }

  health(): AdapterHealth {
    const state = this.#state
    if (state.status === 'up') return { up: true }
    if (state.status === 'closed') return { up: false, reason: 'the Redis adapter is closed' }
    return {
      up: false,
      reason: `cluster store (Redis at ${redactRedisUrl(this.#options.url)}) unavailable: ${this.#detail()}`,
    }
  }

  /** Stop the ticks, let a registration in flight finish, run `farewell` if Redis is reachable, and quit. */
  async close(farewell: () => Promise<unknown>): Promise<void> {
    if (this.#state.status === 'closed') return
    this.#set({ status: 'closed' })
    await Promise.all(this.#stops.splice(0).map((stop) => stop()))
    await this.#registering?.catch(noop)
    if (this.cmd.status === 'ready') await farewell().catch(noop)
    await Promise.all([this.cmd, this.sub].map((client) => client.quit().catch(() => client.disconnect())))
    this.cmd.disconnect()
    this.sub.disconnect()
  }

  #detail(): string {
    const state = this.#state
    if (state.status === 'down') return state.reason
    if (state.status === 'registering') return 'registering this node again'
    return this.#lastError ?? 'connecting'
  }

  #set(state: LinkState): void {
    this.#state = state
    for (const listener of [...this.#listeners]) listener()
  }

  #down(reason: string): void {
    const state = this.#state
    if (state.status === 'closed' || state.status === 'down') return
    if (state.status !== 'connecting')
      this.#options.logger?.warn({ reason }, 'cluster store (Redis) unavailable')
    const detail =
      this.#lastError !== undefined && state.status === 'connecting' ? `: ${this.#lastError}` : ''
    this.#set({ status: 'down', reason: `${reason}${detail}` })
    this.#hooks?.lost()
  }

  /** Down, and drop both connections: a half-open one may never recover (late commands are fenced). */
  #stall(reason: string): void {
    this.#down(reason)
    for (const client of [this.cmd, this.sub]) client.stream?.destroy()
  }

  async #tick(): Promise<void> {
    const state = this.#state
    if (state.status === 'up' || state.status === 'registering') await this.#probe(state.generation)
    else if (state.status !== 'closed') await this.#register()
  }

  async #maintain(): Promise<void> {
    const state = this.#state
    if (state.status !== 'up') return
    try {
      await this.#hooks?.maintain({ nodeId: this.#nodeId, generation: state.generation })
    } catch (err) {
      this.#options.logger?.debug({ err }, 'cluster maintenance failed')
    }
  }

  #probe(generation: string): Promise<void> {
    this.#probing ??= this.#beat(generation).finally(() => {
      this.#probing = undefined
    })
    return this.#probing
  }

  /** One heartbeat: refresh the registration and hear this node's own probe on the subscriber. */
  async #beat(generation: string): Promise<void> {
    const { commandTimeoutMs, nodeTtlMs, clock } = this.#options
    const probe = token()
    let timer: TimerHandle | undefined
    const heard = new Promise<boolean>((resolve) => {
      this.#probes.set(probe, () => resolve(true))
      timer = clock.setTimeout(() => resolve(false), 2 * commandTimeoutMs)
    })
    const current = () => {
      const state = this.#state
      return (state.status === 'up' || state.status === 'registering') && state.generation === generation
    }
    try {
      const alive = await this.#scripts.heartbeat(this.#nodeId, generation, nodeTtlMs, probe)
      if (!current()) return
      if (!alive) return this.lapsed()
      if (!(await heard) && current()) {
        this.#stall(`the subscriber did not hear this node's probe within ${2 * commandTimeoutMs} ms`)
      }
    } catch (err) {
      if (current()) this.#stall(`Redis did not answer a heartbeat (${messageOf(err)})`)
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer)
      this.#probes.delete(probe)
    }
  }

  /** Register under a new generation once both connections are ready, and let the adapter restore. */
  #register(): Promise<void> {
    const state = this.#state
    const idle = state.status === 'connecting' || state.status === 'down'
    if (!idle || this.#hooks === undefined || this.cmd.status !== 'ready' || this.sub.status !== 'ready') {
      return this.#registering ?? Promise.resolve()
    }
    this.#registering ??= this.#restore().finally(() => {
      this.#registering = undefined
    })
    return this.#registering
  }

  async #restore(): Promise<void> {
    const { keys, nodeTtlMs, logger } = this.#options
    const generation = `g_${token()}`
    const scope = { nodeId: this.#nodeId, generation }
    const from = this.#state
    try {
      await this.sub.subscribe(keys.node(this.#nodeId), keys.direct)
      await this.#scripts.register(this.#nodeId, generation, nodeTtlMs)
      // A connection closed meanwhile (or the adapter did): its 'ready' or the next tick starts over.
      if (this.#state !== from) return
      this.#set({ status: 'registering', generation })
      await this.#hooks!.restore(scope)
      const state = this.#state
      if (state.status !== 'registering' || state.generation !== generation) return
      logger?.info({ nodeId: this.#nodeId }, 'cluster store (Redis) available')
      this.#lastError = undefined
      this.#set({ status: 'up', generation })
    } catch (err) {
      logger?.warn({ err }, 'registering with the cluster store failed; retrying')
      this.#down(`registering this node failed: ${messageOf(err)}`)
    }
  }

  /** The node scripts on the command connection (the adapter sends direct messages with them). */
  get scripts(): NodeScripts {
    return this.#scripts
  }
}

/** A Redis URL fit for logs: the password replaced. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis'
  }
}
