import fc from 'fast-check'
import { waitUntil } from './budget'
import type { ClusterConfig, Model, Run } from './delivery-cluster'
import type { TracedClient } from './traced-client'

type Command = fc.AsyncCommand<Model, Run>

/** The `n`th of the clients for which `is` holds (indices wrap), or undefined when none does. */
function pick(model: Readonly<Model>, n: number, is: (i: number) => boolean): number | undefined {
  const eligible = model.members.map((_, i) => i).filter(is)
  return eligible.length === 0 ? undefined : eligible[n % eligible.length]
}

function client(run: Run, index: number | undefined): TracedClient {
  return run.clients[index!]!
}

/** A command on one client chosen among those `is` accepts. */
abstract class ClientCommand implements Command {
  constructor(readonly n: number) {}
  abstract is(model: Readonly<Model>, i: number): boolean
  check(model: Readonly<Model>): boolean {
    return pick(model, this.n, (i) => this.is(model, i)) !== undefined
  }
  async run(model: Model, run: Run): Promise<void> {
    const index = pick(model, this.n, (i) => this.is(model, i))!
    await this.apply(model, run, index)
  }
  abstract apply(model: Model, run: Run, index: number): Promise<void> | void
  abstract toString(): string
}

class Publish extends ClientCommand {
  constructor(
    n: number,
    readonly count: number,
    readonly parallel: boolean,
    readonly echo: boolean,
  ) {
    super(n)
  }
  is(model: Readonly<Model>, i: number) {
    return model.members[i] === true
  }
  apply(_model: Model, run: Run, index: number) {
    run.publish(client(run, index), this.count, this.parallel, this.echo)
  }
  toString() {
    return `publish(#${this.n}, ${this.count}${this.parallel ? ' at once' : ' one by one'}${this.echo ? ', echo' : ''})`
  }
}

/** A late subscriber: a new SDK client that joins now, with or without history. */
class AddClient implements Command {
  constructor(readonly history: number) {}
  check(model: Readonly<Model>) {
    return model.members.length < model.config.maxClients
  }
  async run(model: Model, run: Run) {
    await run.addClient(this.history)
    model.members.push(true)
    model.offline.push(false)
  }
  toString() {
    return `addClient(history ${this.history})`
  }
}

class Leave extends ClientCommand {
  is(model: Readonly<Model>, i: number) {
    return model.members[i] === true
  }
  apply(model: Model, run: Run, index: number) {
    client(run, index).leave()
    model.members[index] = false
  }
  toString() {
    return `leave(#${this.n})`
  }
}

class Rejoin extends ClientCommand {
  constructor(
    n: number,
    readonly history: number,
  ) {
    super(n)
  }
  is(model: Readonly<Model>, i: number) {
    return model.members[i] === false
  }
  apply(model: Model, run: Run, index: number) {
    client(run, index).join(this.history)
    model.members[index] = true
  }
  toString() {
    return `rejoin(#${this.n}, history ${this.history})`
  }
}

/** Reset the client's connection: RST both ways, no close frame. */
class Cut extends ClientCommand {
  is() {
    return true
  }
  apply(_model: Model, run: Run, index: number) {
    client(run, index).link.cut()
  }
  toString() {
    return `cut(#${this.n})`
  }
}

/** Stop forwarding the client's connection and tell nobody: both ends must find out by heartbeat. */
class Blackhole extends ClientCommand {
  is() {
    return true
  }
  apply(_model: Model, run: Run, index: number) {
    client(run, index).link.blackhole()
  }
  toString() {
    return `blackhole(#${this.n})`
  }
}

/** Cut the client off and refuse its reconnects, until `online`: it comes back late. */
class Offline extends ClientCommand {
  is(model: Readonly<Model>, i: number) {
    return model.offline[i] === false
  }
  apply(model: Model, run: Run, index: number) {
    client(run, index).link.goOffline()
    model.offline[index] = true
  }
  toString() {
    return `offline(#${this.n})`
  }
}

class Online extends ClientCommand {
  is(model: Readonly<Model>, i: number) {
    return model.offline[i] === true
  }
  apply(model: Model, run: Run, index: number) {
    client(run, index).link.online()
    model.offline[index] = false
  }
  toString() {
    return `online(#${this.n})`
  }
}

/**
 * Restart a node: SIGTERM (the CLI's graceful shutdown: notice, 1001, drain) or SIGKILL (a crash), then a
 * new process on the same port, at once or (`late`) only when a later command or the end of the run
 * starts it. With the memory adapter the room's state dies with the process (a loss), unless a state file
 * keeps it across SIGTERM.
 */
class RestartNode implements Command {
  constructor(
    readonly node: number,
    readonly signal: 'SIGTERM' | 'SIGKILL',
    readonly late: boolean,
  ) {}
  #index(model: Readonly<Model>) {
    return this.node % model.config.nodes
  }
  check(model: Readonly<Model>) {
    return model.nodeDown[this.#index(model)] === false
  }
  async run(model: Model, run: Run) {
    const index = this.#index(model)
    // With the memory adapter the room dies with the process, unless a state file keeps it across a
    // graceful restart; a crash loses it either way (the file is gone once restored).
    const kept = this.signal === 'SIGTERM' && model.config.stateFile === true
    if (model.config.adapter === 'memory' && !kept) {
      run.lose(this.signal === 'SIGTERM' ? 'clean' : 'crash', `node ${index} ${this.signal}`)
    }
    const node = run.cluster.nodes[index]!
    await node.stop(this.signal)
    if (this.late) model.nodeDown[index] = true
    else await node.start()
  }
  toString() {
    const name = this.signal === 'SIGTERM' ? 'restartNode' : 'crashNode'
    return `${name}(${this.node}, ${this.signal}${this.late ? ', back later' : ''})`
  }
}

class StartNode implements Command {
  constructor(readonly node: number) {}
  #index(model: Readonly<Model>) {
    return this.node % model.config.nodes
  }
  check(model: Readonly<Model>) {
    return model.nodeDown[this.#index(model)] === true
  }
  async run(model: Model, run: Run) {
    const index = this.#index(model)
    await run.cluster.nodes[index]!.start()
    model.nodeDown[index] = false
  }
  toString() {
    return `startNode(${this.node})`
  }
}

/** SIGSTOP a node past its Redis key's lifetime (1.5 s), then SIGCONT: the others think it died. */
class FreezeNode implements Command {
  constructor(readonly node: number) {}
  #index(model: Readonly<Model>) {
    return this.node % model.config.nodes
  }
  check(model: Readonly<Model>) {
    return model.config.adapter === 'redis' && model.nodeDown[this.#index(model)] === false
  }
  async run(model: Model, run: Run) {
    const node = run.cluster.nodes[this.#index(model)]!
    await node.pause()
    // The fault's length, not a wait for a result: longer than the node key's 1.5 s lifetime.
    await new Promise((resolve) => setTimeout(resolve, 1800))
    await node.resume()
  }
  toString() {
    return `freezeNode(${this.node}, 1.8 s)`
  }
}

/** Kill Redis and start it again empty (at once, or `late`): the store lost every room. */
class RestartRedis implements Command {
  constructor(readonly late: boolean) {}
  check(model: Readonly<Model>) {
    return model.config.adapter === 'redis' && !model.redisDown
  }
  async run(model: Model, run: Run) {
    run.lose('store', 'Redis restarted empty')
    await run.cluster.redis!.stop()
    if (this.late) model.redisDown = true
    else await run.cluster.redis!.start()
  }
  toString() {
    return `restartRedis(${this.late ? 'back later' : 'at once'})`
  }
}

class StartRedis implements Command {
  check(model: Readonly<Model>) {
    return model.redisDown
  }
  async run(model: Model, run: Run) {
    await run.cluster.redis!.start()
    model.redisDown = false
  }
  toString() {
    return 'startRedis()'
  }
}

/** Hold every byte between a node and Redis (no reset): its commands time out, its subscriber hears nothing. */
class StallLink implements Command {
  constructor(readonly node: number) {}
  #index(model: Readonly<Model>) {
    return this.node % model.config.nodes
  }
  check(model: Readonly<Model>) {
    return model.config.adapter === 'redis' && model.stalled[this.#index(model)] === false
  }
  run(model: Model, run: Run) {
    const index = this.#index(model)
    run.cluster.redisLinks[index]!.stall()
    model.stalled[index] = true
    return Promise.resolve()
  }
  toString() {
    return `stallRedisLink(${this.node})`
  }
}

class HealLink implements Command {
  constructor(readonly node: number) {}
  #index(model: Readonly<Model>) {
    return this.node % model.config.nodes
  }
  check(model: Readonly<Model>) {
    return model.stalled[this.#index(model)] === true
  }
  run(model: Model, run: Run) {
    const index = this.#index(model)
    run.cluster.redisLinks[index]!.heal()
    model.stalled[index] = false
    return Promise.resolve()
  }
  toString() {
    return `healRedisLink(${this.node})`
  }
}

/** Wait (at most 4 s) until every publish settled and every member is joined; moves on either way. */
class Settle implements Command {
  check() {
    return true
  }
  async run(_model: Model, run: Run) {
    await waitUntil(() => run.settled(), 4000)
  }
  toString() {
    return 'settle()'
  }
}

/**
 * Let time pass: the scenario's timing relative to heartbeats (300-800 ms), backoff (up to 300 ms) and
 * Redis timeouts (500 ms, 1.5 s) is part of what is generated. Not a wait for a result.
 */
class Pace implements Command {
  constructor(readonly ms: number) {}
  check() {
    return true
  }
  async run() {
    await new Promise((resolve) => setTimeout(resolve, this.ms))
  }
  toString() {
    return `pace(${this.ms} ms)`
  }
}

/**
 * The commands a configuration can run, weighted toward publishing. `without` names commands to leave
 * out (as they print: `restartNode`, `freezeNode`, ...), to look past a known bug at the others.
 */
export function commandArbitraries(
  config: ClusterConfig,
  without: readonly string[] = [],
): fc.Arbitrary<Command>[] {
  return allCommands(config).filter((arbitrary) => {
    const name = fc.sample(arbitrary, { numRuns: 1, seed: 1 })[0]!.toString().split('(')[0]!
    return !without.includes(name)
  })
}

function allCommands(config: ClusterConfig): fc.Arbitrary<Command>[] {
  const n = fc.nat({ max: 7 })
  const node = fc.nat({ max: config.nodes - 1 })
  const history = fc.constantFrom(0, 0, 3, 50)
  const publish = fc
    .tuple(
      n,
      fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 10 })),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([i, count, parallel, echo]) => new Publish(i, count, parallel, echo))
  const common: fc.Arbitrary<Command>[] = [
    publish,
    publish,
    publish,
    history.map((h) => new AddClient(h)),
    n.map((i) => new Leave(i)),
    fc.tuple(n, history).map(([i, h]) => new Rejoin(i, h)),
    n.map((i) => new Cut(i)),
    n.map((i) => new Blackhole(i)),
    n.map((i) => new Offline(i)),
    n.map((i) => new Online(i)),
    fc.tuple(node, fc.boolean()).map(([i, late]) => new RestartNode(i, 'SIGTERM', late)),
    fc.tuple(node, fc.boolean()).map(([i, late]) => new RestartNode(i, 'SIGKILL', late)),
    node.map((i) => new StartNode(i)),
    fc.constant(new Settle()),
    fc.constantFrom(100, 400, 900).map((ms) => new Pace(ms)),
  ]
  if (config.adapter === 'memory') return common
  return [
    ...common,
    fc.boolean().map((late) => new RestartRedis(late)),
    fc.constant(new StartRedis()),
    node.map((i) => new StallLink(i)),
    node.map((i) => new HealLink(i)),
    node.map((i) => new FreezeNode(i)),
  ]
}
