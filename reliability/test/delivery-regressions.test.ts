import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { report, waitUntil } from './support/budget'
import { CLIENT } from './support/delivery-cluster'
import { type Finding, judge, type Loss, type RunTrace, timeline } from './support/delivery-judge'
import { type InProcessNode, startInProcessNode } from './support/in-process-node'
import { connectJson } from './support/json-client'
import { type LinkProxy, startLinkProxy } from './support/link-proxy'
import { type PrivateRedis, startPrivateRedis } from './support/private-redis'
import { type ServerNode, startServerNode } from './support/server-node'
import { type PublishRecord, TracedClient } from './support/traced-client'

/**
 * The cases of issue 13 "What was found", each as it was reproduced, checked with the same judge as the
 * model (support/delivery-judge.ts) plus the case's own plain assertion. Case 3 (React) belongs to the
 * react package's tests; the Chromium run of case 2 comes with the demo.
 */

const SHARED_REDIS = 'redis://127.0.0.1:6379'
const now = () => performance.now()
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function link(route: () => number | undefined): Promise<LinkProxy> {
  const proxy = await startLinkProxy(route)
  cleanup.push(() => proxy.close())
  return proxy
}

async function node(options: Parameters<typeof startInProcessNode>[0] = {}): Promise<InProcessNode> {
  const started = await startInProcessNode({ pingIntervalMs: 400, pongTimeoutMs: 400, ...options })
  cleanup.push(() => started.close())
  return started
}

async function processNode(options: Parameters<typeof startServerNode>[0] = {}): Promise<ServerNode> {
  const started = await startServerNode({
    pingIntervalMs: 400,
    pongTimeoutMs: 400,
    shutdownSpreadMs: 50,
    rateLimitPerSec: 0,
    logErrors: true,
    ...options,
  })
  cleanup.push(() => started.close())
  return started
}

async function privateRedis(): Promise<PrivateRedis> {
  const redis = await startPrivateRedis()
  cleanup.push(() => redis.stop())
  return redis
}

/** An SDK client through its own link to whatever `route` says, joined to `room` (no history). */
async function member(
  index: number,
  route: () => number | undefined,
  room: string,
  options: Parameters<typeof TracedClient.prototype.join>[0] = 0,
  clientOptions = CLIENT,
): Promise<TracedClient> {
  const client = new TracedClient(index, await link(route), room, now, clientOptions)
  cleanup.push(() => client.close())
  client.join(options)
  return client
}

const joined = (clients: TracedClient[]) => () => clients.every((c) => c.room?.status === 'joined')
const keys = (c: TracedClient) => c.events.flatMap((e) => (e.kind === 'deliver' ? [e.key] : []))
const seqs = (c: TracedClient) => c.events.flatMap((e) => (e.kind === 'deliver' ? [e.seq] : []))
const resyncs = (c: TracedClient) => c.events.filter((e) => e.kind === 'resync')

function traceOf(
  clients: TracedClient[],
  publishes: PublishRecord[],
  losses: Loss[],
  historySize: number,
): RunTrace {
  return {
    historySize,
    clients: clients.map((c) => ({ index: c.index, events: c.events })),
    publishes,
    losses,
    members: clients.filter((c) => c.member).map((c) => c.index),
  }
}

/** The judge's findings (about the clients in `only`, when given), with a timeline of those concerned. */
function verdict(trace: RunTrace, only?: number[]): string[] {
  const findings: Finding[] = judge(trace).filter(
    (f) => only === undefined || (f.client !== undefined && only.includes(f.client)),
  )
  if (findings.length === 0) return []
  const involved = [...new Set(findings.flatMap((f) => (f.client === undefined ? [] : [f.client])))]
  console.log(timeline(trace, involved, 40))
  return findings.map((f) => `[${f.rule}]${f.client === undefined ? '' : ` #${f.client}`} ${f.detail}`)
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('issue 13, case 1: Redis mode loses nothing at publishers, with no fault', () => {
  it('gives every member, publishers included, every message once and in seq order while SDK clients on two nodes publish at 20/s with one in flight', async () => {
    const prefix = `rwrel:${randomBytes(4).toString('hex')}:`
    // A short idle timeout, so the shared Redis forgets the room soon after the test.
    const redis = { url: SHARED_REDIS, keyPrefix: prefix }
    // The server's default heartbeat (30 s, 10 s), as in the issue.
    const defaults = { redis, idleTimeoutMs: 2000, pingIntervalMs: 30_000, pongTimeoutMs: 10_000 }
    const a = await node(defaults)
    const b = await node(defaults)
    // Default SDK options, as the issue reproduced it; three publishers, two pure subscribers.
    const on = [a, b, a, a, b]
    const clients = await Promise.all(on.map((n, i) => member(i, () => n.port, 'chat', 0, {})))
    await vi.waitFor(() => expect(joined(clients)()).toBe(true), { timeout: 10_000 })
    const publishers = clients.slice(0, 3)
    const PER = 40
    const publishes: PublishRecord[] = []
    await Promise.all(
      publishers.map(async (p) => {
        for (let i = 0; i < PER; i++) {
          await p.publish(`c${p.index}.${i}`, false, publishes)
          await pause(50) // the issue's 20 messages per second, one in flight
        }
      }),
    )
    const total = PER * publishers.length
    await waitUntil(() => clients.every((c) => keys(c).length >= total), 5000)
    const lost = clients.map((c) => total - new Set(keys(c)).size)
    report('regression 1: Redis publishers', { total, lostPerClient: lost })
    expect(verdict(traceOf(clients, publishes, [], 100))).toEqual([])
    for (const c of clients) expect(seqs(c)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
  }, 60_000)
})

describe('issue 13, case 2: a user back 10 s after a restart', () => {
  /**
   * A and B in a memory-adapter server process (with a state file when `persistent`); B is held offline
   * through his link while A carries on.
   */
  async function scene({ persistent }: { persistent: boolean }) {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'roomwire-rel-')), 'state.jsonl')
    const server = await processNode({ historySize: 100, ...(persistent ? { stateFile } : {}) })
    const route = () => (server.up ? server.port : undefined)
    const alice = await member(0, route, 'lobby')
    const bob = await member(1, route, 'lobby')
    await vi.waitFor(() => expect(joined([alice, bob])()).toBe(true), { timeout: 10_000 })
    const publishes: PublishRecord[] = []
    const losses: Loss[] = []
    let n = 0
    const publish = async (count: number) => {
      for (let i = 0; i < count; i++) await alice.publish(`a${++n}`, false, publishes)
    }
    const restart = async (signal: 'SIGTERM' | 'SIGKILL') => {
      // A graceful restart with a state file keeps the room: no loss. A crash loses it either way.
      if (!(persistent && signal === 'SIGTERM')) {
        losses.push({ t: now(), kind: signal === 'SIGTERM' ? 'clean' : 'crash', what: `server ${signal}` })
      }
      await server.stop(signal)
      // Bob's connection is gone by now (1001 after the notice, or dead): he stays away.
      bob.link.goOffline()
      await server.start()
      await vi.waitFor(
        () => expect(alice.room?.status === 'joined' && alice.client.status === 'open').toBe(true),
        {
          timeout: 10_000,
        },
      )
    }
    const epochs = () => [alice, bob].map((c) => c.room?.getSnapshot().epoch)
    return { server, alice, bob, publishes, losses, publish, restart, epochs, stateFile }
  }

  it('gives a user who comes back after a clean restart (SIGTERM) with a state file every message published meanwhile, once, in order, in the same epoch and with no resync', async () => {
    const { alice, bob, publishes, losses, publish, restart, epochs } = await scene({ persistent: true })
    await publish(3)
    await vi.waitFor(() => expect(keys(bob)).toHaveLength(3))
    const [epoch] = epochs()
    await restart('SIGTERM')
    await publish(5)
    bob.link.online()
    await waitUntil(() => keys(bob).length >= 8, 6000)
    expect(keys(bob)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'])
    expect(seqs(bob)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    // The server kept the room's epoch and seq: both resumed with recovered: true.
    expect(epochs()).toEqual([epoch, epoch])
    expect(resyncs(bob)).toEqual([])
    expect(resyncs(alice)).toEqual([])
    expect(verdict(traceOf([alice, bob], publishes, losses, 100))).toEqual([])
  }, 60_000)

  it('gives a user who was away across two clean restarts with a state file, with messages published in between, every one of them once, in order, and no resync', async () => {
    const { alice, bob, publishes, losses, publish, restart } = await scene({ persistent: true })
    await publish(2)
    await vi.waitFor(() => expect(keys(bob)).toHaveLength(2))
    await restart('SIGTERM')
    await publish(2) // a3, a4: acked in the second process
    await restart('SIGTERM')
    await publish(2)
    bob.link.online()
    await waitUntil(() => keys(bob).length >= 6, 6000)
    expect(keys(bob)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'])
    expect(resyncs(bob)).toEqual([])
    expect(resyncs(alice)).toEqual([])
    expect(verdict(traceOf([alice, bob], publishes, losses, 100))).toEqual([])
  }, 60_000)

  it('gives a user who comes back after a clean restart (SIGTERM) without a state file every message of the new epoch, once, in order, and one resync', async () => {
    const { alice, bob, publishes, losses, publish, restart } = await scene({ persistent: false })
    await publish(3)
    await vi.waitFor(() => expect(keys(bob)).toHaveLength(3))
    await restart('SIGTERM')
    await publish(5)
    bob.link.online()
    await waitUntil(() => keys(bob).length >= 8, 6000)
    expect(keys(bob)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'])
    // The notice each saw proves nothing about the new epoch (PROTOCOL.md, change 11).
    expect(resyncs(bob)).toEqual([expect.objectContaining({ reason: 'epoch', seq: 0 })])
    expect(resyncs(alice)).toEqual([expect.objectContaining({ reason: 'epoch', seq: 0 })])
    expect(verdict(traceOf([alice, bob], publishes, losses, 100))).toEqual([])
  }, 60_000)

  it('gives a user who comes back after a crash (SIGKILL) every message of the new epoch, once, in order, and one resync', async () => {
    const { alice, bob, publishes, losses, publish, restart } = await scene({ persistent: false })
    await publish(3)
    await vi.waitFor(() => expect(keys(bob)).toHaveLength(3))
    await restart('SIGKILL')
    await publish(5)
    bob.link.online()
    await waitUntil(() => keys(bob).length >= 8, 6000)
    expect(keys(bob)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'])
    expect(resyncs(bob)).toHaveLength(1)
    expect(verdict(traceOf([alice, bob], publishes, losses, 100))).toEqual([])
  }, 60_000)

  it("tells a user who was away across two restarts to resync, though it saw the first one's shutdown notice", async () => {
    // PROTOCOL.md's old exemption (no resync when the new epoch replays from seq 1 and the previous
    // connection saw the shutdown notice) could not see an epoch that lived and died while the client was
    // away; change 11 removed it.
    const { alice, bob, publishes, losses, publish, restart } = await scene({ persistent: false })
    await publish(2)
    await vi.waitFor(() => expect(keys(bob)).toHaveLength(2))
    await restart('SIGTERM')
    await publish(1) // a3: acked in an epoch Bob never sees
    await restart('SIGKILL')
    await publish(1)
    bob.link.online()
    await waitUntil(() => keys(bob).includes('a4'), 6000)
    expect(keys(bob).includes('a3') || resyncs(bob).length > 0).toBe(true)
    // About Bob only: Alice's own resyncs are the other tests' subject.
    expect(verdict(traceOf([alice, bob], publishes, losses, 100), [bob.index])).toEqual([])
  }, 60_000)

  it('starts a new epoch after a crash that followed a restore from the state file, and tells the user back late to resync', async () => {
    const { alice, bob, publishes, losses, publish, restart, epochs, stateFile } = await scene({
      persistent: true,
    })
    await publish(2)
    await vi.waitFor(() => expect(keys(bob)).toHaveLength(2))
    const [epoch] = epochs()
    await restart('SIGTERM')
    // Restored: the file is gone, so the crash below cannot bring back a stale snapshot.
    expect(existsSync(stateFile)).toBe(false)
    await publish(1) // a3: acked in the restored epoch, then lost with the crash
    await restart('SIGKILL')
    await publish(1)
    bob.link.online()
    await waitUntil(() => keys(bob).includes('a4'), 6000)
    expect(epochs()[1]).not.toBe(epoch)
    expect(resyncs(bob)).toEqual([expect.objectContaining({ reason: 'epoch', seq: 0 })])
    expect(keys(bob)).toEqual(['a1', 'a2', 'a4'])
    expect(verdict(traceOf([alice, bob], publishes, losses, 100))).toEqual([])
  }, 60_000)
})

describe('issue 13, case 4: Redis restarted empty mid-stream', () => {
  it('never skips an acked message of the new epoch: every reset carries the seq before the first one it still holds', async () => {
    const redis = await privateRedis()
    const options = { redis: { url: redis.url, keyPrefix: 'rw:' } }
    const a = await node(options)
    const b = await node(options)
    const subscribers = [await member(0, () => a.port, 'stream'), await member(1, () => b.port, 'stream')]
    await vi.waitFor(() => expect(joined(subscribers)()).toBe(true), { timeout: 10_000 })
    const publishes: PublishRecord[] = []
    const losses: Loss[] = []
    let n = 0
    // The publisher is the server API on node a, retried while Redis is away (the SDK's own retries
    // have their own test, case 6); each ack's epoch is read back from the room right after it.
    const publish = async () => {
      const key = `m${++n}`
      const record: PublishRecord = { client: 9, key, echo: false, t: now() }
      publishes.push(record)
      for (;;) {
        try {
          const { seq } = await a.server.broadcast('stream', 'm', { k: key })
          const info = await a.server.roomInfo('stream')
          record.settled = { t: now(), ok: true, seq, epoch: info?.epoch ?? null }
          return
        } catch {
          await pause(20)
        }
      }
    }
    const RESTARTS = 4
    for (let round = 0; round < RESTARTS; round++) {
      for (let i = 0; i < 5; i++) await publish()
      losses.push({ t: now(), kind: 'store', what: 'Redis restarted empty' })
      await redis.stop()
      await redis.start()
      // Publish at once, while the nodes are still finding out: the race of the issue.
      for (let i = 0; i < 5; i++) await publish()
    }
    await publish()
    const last = publishes.at(-1)!.key
    await waitUntil(() => subscribers.every((c) => keys(c).includes(last)), 10_000)
    const badResets = subscribers.flatMap((c) =>
      c.events.filter((e) => e.kind === 'reset' && e.seq > 0).map((e) => (e.kind === 'reset' ? e.seq : 0)),
    )
    report('regression 4: Redis restarted empty', {
      restarts: RESTARTS,
      published: n,
      resetSeqsAboveZero: badResets,
    })
    expect(verdict(traceOf(subscribers, publishes, losses, 100))).toEqual([])
    expect(badResets).toEqual([])
  }, 90_000)
})

describe("issue 13, case 5: a node's link to Redis stalls", () => {
  it('says degraded while its Redis link is stalled, then gives its members everything the other node acked and restores membership', async () => {
    const redis = await privateRedis()
    const stall = await link(() => (redis.up ? redis.port : undefined))
    const a = await node({ redis: { url: `redis://127.0.0.1:${stall.port}`, keyPrefix: 'rw:' } })
    const b = await node({ redis: { url: redis.url, keyPrefix: 'rw:' } })
    const onA = await member(0, () => a.port, 'room')
    const publisher = await member(1, () => b.port, 'room')
    const onB = await member(2, () => b.port, 'room')
    const clients = [onA, publisher, onB]
    await vi.waitFor(() => expect(joined(clients)()).toBe(true), { timeout: 10_000 })
    const publishes: PublishRecord[] = []
    stall.stall()
    const degraded = await waitUntil(async () => (await a.health()).status === 'degraded', 3000)
    // The stall lasts twice the node key's 1.5 s lifetime: the fault's length, not a wait for a result.
    const stalledUntil = now() + 3000
    let n = 0
    while (now() < stalledUntil) {
      await publisher.publish(`b${++n}`, false, publishes)
      await pause(50)
    }
    stall.heal()
    await waitUntil(() => keys(onA).includes(`b${n}`), 6000)
    const membersAgree = await waitUntil(() => {
      const ids = new Set(clients.map((c) => c.client.id))
      return clients.every((c) => {
        const listed = new Set(c.room?.members.map((m) => m.id))
        return listed.size === ids.size && [...ids].every((id) => listed.has(id ?? ''))
      })
    }, 4000)
    const reachable = await b.server.sendDirect(onA.client.id ?? '', 'ping', null)
    report('regression 5: stalled Redis link', {
      degraded,
      publishedDuringStall: n,
      deliveredOnStalledNode: keys(onA).length,
      membersAgree,
      directReachesStalledNode: reachable,
    })
    expect(degraded).toBe(true)
    expect(verdict(traceOf(clients, publishes, [], 100))).toEqual([])
    expect(keys(onA)).toEqual(Array.from({ length: n }, (_, i) => `b${i + 1}`))
    expect(membersAgree).toBe(true)
    expect(reachable).toBe(true)
  }, 60_000)

  it('leaves no ghost member after a join whose subscription stalled', async () => {
    const redis = await privateRedis()
    const stall = await link(() => (redis.up ? redis.port : undefined))
    const a = await node({ redis: { url: `redis://127.0.0.1:${stall.port}`, keyPrefix: 'rw:' } })
    const b = await node({ redis: { url: redis.url, keyPrefix: 'rw:' } })
    const witness = await member(0, () => b.port, 'room')
    // Node a already follows the room (a member of its own), so a new join's script runs at once and
    // only the confirmation on the room's channel (node a's subscriber connection) can be late.
    const local = await member(1, () => a.port, 'room')
    await vi.waitFor(() => expect(joined([witness, local])()).toBe(true), { timeout: 10_000 })
    stall.stall(/subscribe/i)
    const joiner = await connectJson(a.url)
    cleanup.push(() => joiner.close())
    joiner.send({ type: 'join', room: 'room', ref: 'j' })
    const answer = await joiner.waitFor((m) => 'ref' in m && m.ref === 'j', 10_000)
    stall.heal()
    // Redis runs a connection's commands in order: once a command node a sends now is answered, whatever
    // the stall held (the join's own script included) has run.
    await vi.waitFor(() => a.server.roomInfo('room'), { timeout: 5000 })
    // And once the witness's own message is back, it has received what was published before it.
    const publishes: PublishRecord[] = []
    await witness.publish('after-heal', true, publishes)
    await vi.waitFor(() => expect(keys(witness)).toContain('after-heal'), { timeout: 5000 })
    // A refused join changed nothing (`unavailable`): while the joiner stays connected and is not a
    // member, nobody may list it; had it been accepted, everybody must.
    const listedBy = async () => {
      const info = await b.server.roomInfo('room')
      return {
        node: info?.members.some((m) => m.id === joiner.id) === true,
        witness: witness.room!.members.some((m) => m.id === joiner.id),
      }
    }
    const accepted = answer.type === 'joined'
    const consistent = await waitUntil(async () => {
      const seen = await listedBy()
      return seen.node === accepted && seen.witness === accepted
    }, 4000)
    report('regression 5: stalled join', {
      answer: answer.type === 'error' ? answer.code : answer.type,
      consistent,
      listed: await listedBy(),
    })
    expect(consistent).toBe(true)
  }, 30_000)

  /** Whether `listed` holds exactly the ids `expected` (none of them null). */
  const sameIds = (listed: readonly string[], expected: readonly (string | null)[]) =>
    listed.length === expected.length && expected.every((id) => id !== null && listed.includes(id))

  /**
   * Node a paused past its key's lifetime until node b reaped a's member, then resumed; what each node
   * and each client lists once a's client is joined again (under its current id: a new one if it
   * reconnected).
   */
  async function pausePastReaping(clientOptions: typeof CLIENT) {
    const redis = await privateRedis()
    const options = {
      historySize: 100,
      pingIntervalMs: 5000,
      pongTimeoutMs: 5000,
      redis: {
        url: redis.url,
        keyPrefix: 'rw:',
        nodeTtlMs: 1500,
        heartbeatIntervalMs: 300,
        reapIntervalMs: 300,
        commandTimeoutMs: 500,
        connectTimeoutMs: 2000,
        maxReconnectDelayMs: 100,
      },
    }
    const a = await processNode(options)
    const b = await processNode(options)
    const onA = await member(0, () => a.port, 'room', 0, clientOptions)
    const onB = await member(1, () => b.port, 'room', 0, clientOptions)
    await vi.waitFor(() => expect(joined([onA, onB])()).toBe(true), { timeout: 10_000 })
    // A node answers with an error instead while its link is not up (a registers again once resumed).
    const members = async (node: ServerNode) => (await node.room('room')).members as string[] | undefined
    const before = onA.client.id ?? ''
    await a.pause()
    // Paused past the key's 1.5 s lifetime, until node b has reaped a's member: the issue's 9 s, scaled.
    // By the id it had: a client that timed out meanwhile has none.
    const reaped = await waitUntil(async () => (await members(b))?.includes(before) === false, 5000)
    await a.resume()
    const ids = () => [onA.client.id, onB.client.id]
    const current = () => joined([onA, onB])() && ids().every((id) => id !== null)
    const back = await waitUntil(async () => {
      if (!current()) return false
      const lists = await Promise.all([members(a), members(b)])
      return lists.every((listed) => listed !== undefined && sameIds(listed, ids()))
    }, 8000)
    // Each client lists both, itself included.
    const lists = (c: TracedClient) => c.room!.members.map((m) => m.id)
    const listed = await waitUntil(() => current() && [onA, onB].every((c) => sameIds(lists(c), ids())), 3000)
    return { reaped, back, listed, reconnected: onA.client.id !== before }
  }

  it('brings a node paused with SIGSTOP past its key lifetime back with its members listed everywhere', async () => {
    // An SDK heartbeat longer than the pause: the paused node's clients stay connected through it, as in
    // the issue (a 9 s pause under the 30 s + 10 s default).
    const seen = await pausePastReaping({ ...CLIENT, heartbeat: { intervalMs: 5000, timeoutMs: 5000 } })
    report('regression 5: SIGSTOP', seen)
    expect(seen.reaped).toBe(true)
    expect(seen.reconnected).toBe(false)
    expect(seen.back).toBe(true)
    expect(seen.listed).toBe(true)
  }, 40_000)

  it('lists everywhere, once, the client of a node paused with SIGSTOP that timed out and reconnected to it', async () => {
    // The SDK's heartbeat gives up on the frozen node within a second; its reconnects wait in the node's
    // accept queue, and once it runs again the client rejoins with `since` under a new id.
    const seen = await pausePastReaping(CLIENT)
    report('regression 5: SIGSTOP, client reconnected', seen)
    expect(seen.reaped).toBe(true)
    expect(seen.reconnected).toBe(true)
    expect(seen.back).toBe(true)
    expect(seen.listed).toBe(true)
  }, 40_000)
})

describe('issue 13, case 6: retries that never come', () => {
  it('joins a room once Redis is back when the first join was refused unavailable, and settles a later publish', async () => {
    const redis = await privateRedis()
    const a = await node({ redis: { url: redis.url, keyPrefix: 'rw:' } })
    await redis.stop()
    await vi.waitFor(async () => expect((await a.health()).status).toBe('degraded'), { timeout: 5000 })
    const client = await member(0, () => a.port, 'room')
    // Redis comes back only after the server refused the join with `unavailable`.
    const refused = await waitUntil(
      async () => (await a.metric('roomwire_errors_total', 'unavailable')) >= 1,
      5000,
    )
    expect(refused).toBe(true)
    await redis.start()
    const publishes: PublishRecord[] = []
    const sent = client.publish('after', false, publishes)
    const recovered = await waitUntil(() => client.room?.status === 'joined', 6000)
    await Promise.race([sent, pause(3000)])
    report('regression 6: join while Redis is down', {
      status: client.room?.status,
      error: client.room?.getSnapshot().error?.code ?? null,
      publish: publishes[0]?.settled ?? 'unsettled',
    })
    expect(recovered).toBe(true)
    expect(publishes[0]?.settled).toMatchObject({ ok: true, seq: 1 })
  }, 30_000)

  it('completes a history join over a slow link, every message once and in order, without a slow-consumer close', async () => {
    // 100 messages of 60 KiB: a 6 MiB replay, far more than the send buffer and the kernel's socket
    // buffers on loopback, through a link that carries 2 MiB/s.
    const server = await node({
      historySize: 100,
      historyMaxBytes: 8 * 1024 * 1024,
      maxBufferedBytes: 256 * 1024,
    })
    const text = 'x'.repeat(60 * 1024)
    for (let i = 1; i <= 100; i++) await server.server.broadcast('big', 'm', { k: `h${i}`, text })
    const closes: number[] = []
    const slow = new TracedClient(0, await link(() => server.port), 'big', now, CLIENT)
    cleanup.push(() => slow.close())
    slow.link.throttle(2 * 1024 * 1024)
    slow.client.on('status', (snapshot) => {
      if (snapshot.closeCode !== null) closes.push(snapshot.closeCode)
    })
    slow.join(100)
    const done = await waitUntil(() => keys(slow).length >= 100, 20_000)
    const slowConsumers = await server.metric('roomwire_slow_consumers_total')
    report('regression 6: slow history join', {
      done,
      delivered: keys(slow).length,
      connections: slow.link.connections,
      slowConsumers,
    })
    expect(keys(slow)).toEqual(Array.from({ length: 100 }, (_, i) => `h${i + 1}`))
    expect(resyncs(slow)).toEqual([])
    expect(slowConsumers).toBe(0)
  }, 60_000)
})
