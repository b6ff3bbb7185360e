import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClientOptions } from '@roomwire/client'
import { waitUntil } from './budget'
import type { ChildServerOptions } from './child-server'
import type { Finding, Loss, RunTrace } from './delivery-judge'
import { type LinkProxy, startLinkProxy } from './link-proxy'
import { type PrivateRedis, startPrivateRedis } from './private-redis'
import { type ServerNode, startServerNode } from './server-node'
import { type PublishRecord, TracedClient } from './traced-client'

/** What the model runs against. */
export interface ClusterConfig {
  adapter: 'memory' | 'redis'
  /** Server processes (one for the memory adapter). */
  nodes: number
  /** `rooms.history_size` of every node. */
  historySize: number
  /** Most SDK clients a run may have. */
  maxClients: number
  /**
   * Memory adapter only: each node keeps its rooms in a state file (the CLI's `state_file`), so a
   * SIGTERM restart keeps every room's epoch and seq and is no loss.
   */
  stateFile?: boolean
}

/**
 * Timings scaled down so that faults are noticed in about a second: the server pings every 400 ms and
 * drops a silent connection after 800 ms; the SDK pings every 300 ms and drops the link 600 ms after a
 * ping without an answer; Redis commands time out after 500 ms and a node silent for 1.5 s is dead.
 */
const SERVER: ChildServerOptions = {
  pingIntervalMs: 400,
  pongTimeoutMs: 400,
  rateLimitPerSec: 0,
  shutdownSpreadMs: 50,
  shutdownTimeoutMs: 2000,
  logErrors: true,
}
export const CLIENT: Partial<ClientOptions> = {
  reconnect: { initialMs: 20, maxMs: 300, overloadedMinMs: 100 },
  heartbeat: { intervalMs: 300, timeoutMs: 600 },
  connectTimeoutMs: 1500,
  // Publishes wait as long as the run needs; the judge, not a timeout, decides what was lost.
  ackTimeoutMs: 60_000,
}

/**
 * Server nodes in child processes on fixed ports, and for the Redis adapter a private redis-server
 * behind one stallable link per node. Shared by every run of a property (each run has a room of its own).
 */
export class Cluster {
  readonly config: ClusterConfig
  readonly nodes: ServerNode[]
  readonly redis: PrivateRedis | undefined
  readonly redisLinks: LinkProxy[]
  readonly prefix: string

  private constructor(
    config: ClusterConfig,
    nodes: ServerNode[],
    redis: PrivateRedis | undefined,
    links: LinkProxy[],
    prefix: string,
  ) {
    this.config = config
    this.nodes = nodes
    this.redis = redis
    this.redisLinks = links
    this.prefix = prefix
  }

  static async start(config: ClusterConfig): Promise<Cluster> {
    const prefix = `rwmodel:${randomBytes(4).toString('hex')}:`
    let redis: PrivateRedis | undefined
    const links: LinkProxy[] = []
    const nodes: ServerNode[] = []
    try {
      if (config.adapter === 'redis') {
        redis = await startPrivateRedis()
        const store = redis
        for (let i = 0; i < config.nodes; i++)
          links.push(await startLinkProxy(() => (store.up ? store.port : undefined)))
      }
      const folder = config.stateFile === true ? mkdtempSync(join(tmpdir(), 'roomwire-model-')) : undefined
      for (let i = 0; i < config.nodes; i++) {
        const options: ChildServerOptions = { ...SERVER, historySize: config.historySize }
        if (folder !== undefined) options.stateFile = join(folder, `node-${i}.jsonl`)
        if (config.adapter === 'redis') {
          options.redis = {
            url: `redis://127.0.0.1:${links[i]!.port}`,
            keyPrefix: prefix,
            nodeTtlMs: 1500,
            heartbeatIntervalMs: 300,
            reapIntervalMs: 300,
            commandTimeoutMs: 500,
            connectTimeoutMs: 2000,
            maxReconnectDelayMs: 100,
          }
        }
        nodes.push(await startServerNode(options))
      }
    } catch (err) {
      await Promise.all(nodes.map((node) => node.close()))
      await Promise.all(links.map((link) => link.close()))
      await redis?.stop()
      throw err
    }
    return new Cluster(config, nodes, redis, links, prefix)
  }

  /** The port a new client connection goes to: its own node while that one is up, else any node up. */
  route(preferred: number): number | undefined {
    const own = this.nodes[preferred % this.nodes.length]!
    if (own.up && !own.paused) return own.port
    // A load balancer's health check takes a frozen node out of rotation while another one is up.
    return (this.nodes.find((node) => node.up && !node.paused) ?? this.nodes.find((node) => node.up))?.port
  }

  /**
   * Everything back: Redis up, links healed, every node up and running, and (bounded) every node saying
   * `/health` ok, so that a run does not begin while a node still recovers from the last one's faults.
   */
  async heal(): Promise<void> {
    if (this.redis !== undefined && !this.redis.up) await this.redis.start()
    for (const link of this.redisLinks) link.heal()
    for (const node of this.nodes) {
      if (node.up) await node.resume()
      else await node.start()
    }
    await waitUntil(async () => {
      const states = await Promise.all(
        this.nodes.map((node) => node.health().catch(() => ({ status: 'down' }))),
      )
      return states.every((state) => state.status === 'ok')
    }, 5000)
  }

  crashes(): string[] {
    return this.nodes.flatMap((node) => node.crashes())
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()))
    await Promise.all(this.redisLinks.map((link) => link.close()))
    await this.redis?.stop()
  }
}

/** The model's view of a run: what the commands' preconditions need. */
export interface Model {
  readonly config: ClusterConfig
  /** Per client: holds the room. */
  members: boolean[]
  /** Per client: its link refuses connections. */
  offline: boolean[]
  nodeDown: boolean[]
  redisDown: boolean
  stalled: boolean[]
}

const now = () => performance.now()

/** One run of the model: a fresh room, fresh SDK clients on their own links, and what they recorded. */
export class Run {
  readonly cluster: Cluster
  readonly room: string
  readonly clients: TracedClient[] = []
  readonly publishes: PublishRecord[] = []
  readonly losses: Loss[] = []
  readonly #background = new Set<Promise<unknown>>()
  readonly #crashesBefore: number
  #published = 0

  private constructor(cluster: Cluster, room: string) {
    this.cluster = cluster
    this.room = room
    this.#crashesBefore = cluster.crashes().length
  }

  /** Heal the cluster and start a run with `initialClients` members (joined, no history). */
  static async start(cluster: Cluster, room: string, initialClients = 2): Promise<Run> {
    await cluster.heal()
    const run = new Run(cluster, room)
    for (let i = 0; i < initialClients; i++) await run.addClient(0)
    await waitUntil(() => run.clients.every((c) => c.room?.status === 'joined'), 8000)
    return run
  }

  model(): Model {
    const { config } = this.cluster
    return {
      config,
      members: this.clients.map((c) => c.member),
      offline: this.clients.map((c) => c.link.offline),
      nodeDown: this.cluster.nodes.map((node) => !node.up),
      redisDown: this.cluster.redis !== undefined && !this.cluster.redis.up,
      stalled: this.cluster.redisLinks.map((link) => link.stalled),
    }
  }

  #track(work: Promise<unknown>): void {
    const task = work.catch(() => undefined).finally(() => this.#background.delete(task))
    this.#background.add(task)
  }

  async addClient(history: number): Promise<TracedClient> {
    const index = this.clients.length
    const link = await startLinkProxy(() => this.cluster.route(index))
    const client = new TracedClient(index, link, this.room, now, CLIENT)
    this.clients.push(client)
    client.join(history)
    return client
  }

  /** Publish `count` messages from `client`, one at a time (each after the previous ack) or all at once. */
  publish(client: TracedClient, count: number, parallel: boolean, echo: boolean): void {
    const keys = Array.from({ length: count }, () => `c${client.index}.${++this.#published}`)
    if (parallel) this.#track(Promise.all(keys.map((key) => client.publish(key, echo, this.publishes))))
    else {
      this.#track(
        (async () => {
          for (const key of keys) await client.publish(key, echo, this.publishes)
        })(),
      )
    }
  }

  /** Record the loss of every room's state the store held (memory: a process restart; Redis emptied). */
  lose(kind: Loss['kind'], what: string): void {
    this.losses.push({ t: now(), kind, what })
  }

  /** Whether every publish settled and every member's room is joined on an open connection. */
  settled(): boolean {
    return (
      this.publishes.every((p) => p.settled !== undefined) &&
      this.clients.every((c) => !c.member || (c.room?.status === 'joined' && c.client.status === 'open'))
    )
  }

  /**
   * End of the run: heal every fault, let publishes settle and members rejoin, publish a barrier from one
   * member and wait until every member delivered it (everything acked before it then has arrived or been
   * excused), and wait for member lists to agree. What does not happen in bounded time is a finding.
   */
  /**
   * Redis's own view of the room's membership (member id -> owning node, and which nodes are alive), so a
   * membership finding says whether the store or a node's view of it is wrong.
   */
  #storeView(): string {
    const redis = this.cluster.redis
    if (redis === undefined || !redis.up) return ''
    const cli = (...args: string[]) =>
      execFileSync('redis-cli', ['-p', String(redis.port), '--raw', ...args], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line !== '')
    try {
      const owners = cli('HGETALL', `${this.cluster.prefix}room:{${this.room}}:owners`)
      const nodes = cli('SMEMBERS', `${this.cluster.prefix}nodes`)
      const alive = nodes.filter((id) => cli('EXISTS', `${this.cluster.prefix}node:${id}`)[0] === '1')
      const held: Record<string, string> = {}
      for (let i = 0; i + 1 < owners.length; i += 2) held[owners[i]!] = owners[i + 1]!
      return `; Redis holds ${JSON.stringify(held)}, nodes ${JSON.stringify(nodes)}, alive ${JSON.stringify(alive)}`
    } catch (err) {
      return `; Redis could not be read (${(err as Error).message})`
    }
  }

  async quiesce(): Promise<Finding[]> {
    const findings: Finding[] = []
    for (const client of this.clients) {
      client.link.online()
      client.link.throttle(null)
    }
    await this.cluster.heal()
    // A room in `error` or a stopped client stays so: nothing more will settle there, stop waiting on it.
    const final = (c: TracedClient) =>
      c.room?.status === 'error' || c.client.status === 'closed' || c.client.status === 'unauthorized'
    await waitUntil(
      () => this.publishes.every((p) => p.settled !== undefined || final(this.clients[p.client]!)),
      8000,
    )
    const members = this.clients.filter((c) => c.member)
    const joined = () =>
      members.every((c) => c.room?.status === 'joined' && c.client.status === 'open' && c.client.id !== null)
    if (!(await waitUntil(() => members.every((c) => final(c) || joined()), 6000)) || !joined()) {
      for (const c of members) {
        if (c.room?.status !== 'joined' || c.client.status !== 'open') {
          findings.push({
            rule: 'liveness',
            client: c.index,
            detail: `after every fault healed the room stayed "${c.room?.status}" (client "${c.client.status}", error: ${c.room?.getSnapshot().error?.code ?? 'none'})`,
          })
        }
      }
    }
    const herald = members.find((c) => c.room?.status === 'joined')
    const live = members.filter((c) => !final(c))
    if (herald !== undefined) {
      const barrier = `barrier.${this.room}`
      const sent = herald.publish(barrier, false, this.publishes)
      const acked = await Promise.race([
        sent.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000)),
      ])
      const record = this.publishes.find((p) => p.key === barrier)
      if (acked && record?.settled?.ok === true) {
        await waitUntil(() => live.every((c) => c.deliveredKeys().has(barrier)), 6000)
        for (const c of live) {
          if (!c.deliveredKeys().has(barrier)) {
            findings.push({
              rule: 'liveness',
              client: c.index,
              detail: `never delivered the final barrier message (room "${c.room?.status}", seq ${c.room?.getSnapshot().seq})`,
            })
          }
        }
      }
    }
    const ids = () => new Set(members.map((c) => c.client.id))
    const agree = () =>
      members.every((c) => {
        const listed = new Set(c.room?.members.map((m) => m.id))
        const expected = ids()
        return listed.size === expected.size && [...expected].every((id) => listed.has(id ?? ''))
      })
    if (members.length > 0 && !(await waitUntil(agree, 4000))) {
      const expected = [...ids()]
      const store = this.#storeView()
      for (const c of members) {
        const listed = c.room?.members.map((m) => m.id) ?? []
        const extra = listed.filter((id) => !expected.includes(id))
        const absent = expected.filter((id) => id !== null && !listed.includes(id))
        if (extra.length > 0 || absent.length > 0) {
          findings.push({
            rule: 'membership',
            client: c.index,
            detail: `member list wrong after healing: ${absent.length} member(s) missing, ${extra.length} ghost(s) (listed ${JSON.stringify(listed)}, expected ${JSON.stringify(expected)}${store})`,
          })
        }
      }
    }
    for (const crash of this.cluster.crashes().slice(this.#crashesBefore)) {
      findings.push({ rule: 'no crash', detail: crash.split('\n').slice(0, 3).join(' | ') })
    }
    for (const c of this.clients) {
      for (const error of c.errors) {
        const code = (error as { code?: string }).code
        // An honest server's frames always decode, and the test's own handlers never throw.
        if (code === 'bad_frame' || code === 'handler_failed') {
          findings.push({ rule: 'sdk errors', client: c.index, detail: String((error as Error).message) })
        }
      }
    }
    return findings
  }

  trace(): RunTrace {
    return {
      historySize: this.cluster.config.historySize,
      clients: this.clients.map((c) => ({ index: c.index, events: c.events })),
      publishes: this.publishes,
      losses: this.losses,
      members: this.clients.filter((c) => c.member).map((c) => c.index),
    }
  }

  /** Counts for the report. */
  stats(): { clients: number; publishes: number; delivered: number; resyncs: number; connections: number } {
    return {
      clients: this.clients.length,
      publishes: this.publishes.length,
      delivered: this.clients.reduce((n, c) => n + c.events.filter((e) => e.kind === 'deliver').length, 0),
      resyncs: this.clients.reduce((n, c) => n + c.events.filter((e) => e.kind === 'resync').length, 0),
      connections: this.clients.reduce((n, c) => n + c.link.connections, 0),
    }
  }

  async dispose(): Promise<void> {
    for (const client of this.clients) client.close()
    await Promise.allSettled([...this.#background])
    await Promise.all(this.clients.map((client) => client.link.close()))
  }
}
