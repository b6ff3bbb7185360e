import type { DirectEventMessage } from '@roomwire/protocol'
import type WebSocket from 'ws'
import type { ConnectionTarget } from './adapter'
import { Connection, type ConnectionHost } from './connection'
import { type FanOutSink, fanOut, LazyFrame } from './frames'
import { inflateInline } from './inbound-inflate'
import type { ResolvedLimits } from './limits'
import { randomId } from './random-id'
import { budgetsOff, InboundBudget, type InboundRates } from './rate-limiter'

function newConnectionId(): string {
  return randomId('c_', 9)
}

/** What the registry hands a connection's socket events to. */
export interface RegistryDeps {
  readonly host: ConnectionHost
  /** The rate limits every connection is held to. */
  readonly limits: ResolvedLimits
  /** Counts what a direct broadcast sent (once per broadcast) and closes slow consumers. */
  readonly sink: FanOutSink<Connection>
  /** A frame arrived (the inbound path). */
  onFrame(connection: Connection, raw: Buffer, isBinary: boolean): void
  /** The socket closed; the connection is already out of the registry. Must not throw. */
  onClosed(connection: Connection, code: number, reason: string): void
}

/** Who a new connection is, from admission. */
export interface NewConnection {
  ws: WebSocket
  user: string | undefined
  data: unknown
  remoteAddress: string | undefined
}

/**
 * This node's open connections: their ids, the one set of socket listeners they share (each finds its
 * connection by socket, so no closure per socket keeps an upgrade request alive), and direct delivery.
 */
export class ConnectionRegistry {
  readonly #byId = new Map<string, Connection>()
  readonly #bySocket = new WeakMap<WebSocket, Connection>()
  readonly #deps: RegistryDeps
  readonly #rates: InboundRates
  /**
   * With both rate limits off, the one budget every connection shares: such a budget is never written (see
   * `budgetsOff`), and a budget of its own was 136 bytes of every idle connection (issue 14's figure).
   */
  readonly #sharedBudget: InboundBudget | undefined
  #whenEmpty: (() => void)[] = []
  readonly #onMessage: (this: WebSocket, raw: Buffer, isBinary: boolean) => void
  readonly #onActivity: (this: WebSocket) => void
  readonly #onClose: (this: WebSocket, code: number, reason: Buffer) => void

  constructor(deps: RegistryDeps) {
    this.#deps = deps
    const { limits } = deps
    this.#rates = {
      messagesPerSec: limits.rateLimitPerSec,
      messageBurst: limits.rateLimitBurst,
      bytesPerSec: limits.rateLimitBytesPerSec,
      byteBurst: limits.rateLimitBytesBurst,
      windowMs: limits.rateLimitWindowMs,
    }
    this.#sharedBudget = budgetsOff(this.#rates)
      ? new InboundBudget(this.#rates, deps.host.clock.now())
      : undefined
    const bySocket = this.#bySocket
    const clock = deps.host.clock
    // `this` is the socket: one function each for every connection.
    this.#onMessage = function (raw, isBinary) {
      const connection = bySocket.get(this)
      if (connection !== undefined) deps.onFrame(connection, raw, isBinary)
    }
    this.#onActivity = function () {
      const connection = bySocket.get(this)
      if (connection !== undefined) connection.lastSeenAt = clock.now()
    }
    const closed = (ws: WebSocket, code: number, reason: Buffer) => this.#closed(ws, code, reason)
    this.#onClose = function (code, reason) {
      closed(this, code, reason)
    }
  }

  get size(): number {
    return this.#byId.size
  }

  get(id: string): Connection | undefined {
    return this.#byId.get(id)
  }

  values(): IterableIterator<Connection> {
    return this.#byId.values()
  }

  /** Whether the connection is still open and registered (a join may outlive its socket). */
  isOpen(connection: Connection): boolean {
    return this.#byId.get(connection.id) === connection && !connection.closing
  }

  /** Register an accepted socket as a connection with a new id. */
  add(init: NewConnection): Connection {
    const now = this.#deps.host.clock.now()
    const connection = new Connection({
      ...init,
      id: newConnectionId(),
      host: this.#deps.host,
      now,
      budget: this.#sharedBudget ?? new InboundBudget(this.#rates, now),
    })
    // Compressed publishes reach the fan-out in the turn that read them (inbound-inflate.ts).
    inflateInline(init.ws)
    this.#byId.set(connection.id, connection)
    this.#bySocket.set(init.ws, connection)
    init.ws.on('message', this.#onMessage)
    if (!connection.countsBytes) {
      init.ws.on('pong', this.#onActivity)
      init.ws.on('ping', this.#onActivity)
    }
    init.ws.on('close', this.#onClose)
    return connection
  }

  /** Resolves once no connection is open (at once when none is). */
  whenEmpty(): Promise<void> {
    if (this.#byId.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#whenEmpty.push(resolve))
  }

  /** Write a direct message to this node's connections matching `target`; returns how many got it. */
  deliverDirect(target: ConnectionTarget, message: DirectEventMessage): number {
    const frame = new LazyFrame(() => JSON.stringify(message))
    return fanOut(frame, this.#matching(target), this.#deps.sink)
  }

  *#matching(target: ConnectionTarget): Generator<Connection> {
    if (target.kind === 'only') {
      for (const id of target.ids) {
        const connection = this.#byId.get(id)
        if (connection !== undefined) yield connection
      }
      return
    }
    const except = target.kind === 'except' ? new Set(target.ids) : undefined
    for (const [id, connection] of this.#byId) if (except === undefined || !except.has(id)) yield connection
  }

  #closed(ws: WebSocket, code: number, reason: Buffer): void {
    const connection = this.#bySocket.get(ws)
    if (connection === undefined) return
    this.#bySocket.delete(ws)
    connection.dispose()
    this.#byId.delete(connection.id)
    this.#deps.onClosed(connection, code, reason.toString())
    if (this.#byId.size === 0 && this.#whenEmpty.length > 0)
      for (const wake of this.#whenEmpty.splice(0)) wake()
  }
}
