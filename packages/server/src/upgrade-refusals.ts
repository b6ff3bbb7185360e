import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type WebSocket from 'ws'
import type { WebSocketServer } from 'ws'
import type { AddressSlots } from './address-slots'
import type { Refusal, RefusalLog } from './admission-steps'
import type { Clock } from './clock'
import { LogThrottle, REFUSAL_LOG_INTERVAL_MS, REFUSAL_LOG_LINES } from './log-throttle'
import { closeCodeLabel, type ServerMetrics } from './metrics'

/**
 * Upgrades refused after the upgrade that one address may have closing at once; past it the address
 * gets HTTP 429 before the upgrade. A browser cannot read a failed upgrade's status (PROTOCOL.md,
 * "Transport"), so refusals are close codes, but one that keeps opening sockets while its last 16
 * refusals are still closing is not a browser following them: it gets the cheap answer.
 */
const REFUSING_PER_ADDRESS = 16

/** One upgrade on its way through admission. */
export interface Upgrade {
  readonly request: IncomingMessage
  readonly socket: Duplex
  readonly head: Buffer
  /** The client's address (see trustedProxies). */
  readonly address: string | undefined
  /** The address's slot key; undefined for a loopback peer, which is neither counted nor backed off. */
  readonly key: string | undefined
}

/** What carrying out refusals needs. */
export interface UpgradeRefusalsDeps {
  readonly wss: WebSocketServer
  readonly slots: AddressSlots
  readonly metrics: ServerMetrics
  readonly log: Logger
  readonly clock: Clock
  readonly now: () => number
  readonly closeTimeoutMs: number
}

/** Answer a request with an HTTP status and no body, and drop the socket. */
export function abortHandshake(socket: Duplex, status: number, text: string, headers = ''): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${headers}Content-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

/**
 * The one place an admission refusal is carried out: counted by reason, logged (each kind throttled),
 * and answered with its HTTP status, or with its close code (after completing the upgrade when it is
 * not done yet, so a browser can read it).
 */
export class UpgradeRefusals {
  readonly #deps: UpgradeRefusalsDeps
  readonly #throttles = {
    origin: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
    auth: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
    address: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
    capacity: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
  }
  readonly #onWsError: (err: Error) => void

  constructor(deps: UpgradeRefusalsDeps) {
    this.#deps = deps
    this.#onWsError = (err) => deps.log.debug({ err }, 'socket error')
  }

  /** Log a line, unless its kind logged too much lately (then the next says how many were suppressed). */
  log({ kind, level, fields, msg }: RefusalLog): void {
    const { log, now } = this.#deps
    if (!log.isLevelEnabled(level)) return
    const suppressed = this.#throttles[kind].take(now())
    if (suppressed === undefined) return
    log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg)
  }

  /** Listen for a socket's errors (at debug: a peer's reset is not the server's fault). */
  watch(ws: WebSocket): void {
    ws.on('error', this.#onWsError)
  }

  /** Close a socket right after its upgrade, and destroy it if the close does not finish in time. */
  close(ws: WebSocket, code: number, reason: string): void {
    const { metrics, clock, closeTimeoutMs } = this.#deps
    metrics.closes.inc({ code: closeCodeLabel(code) })
    ws.close(code, reason)
    const timer = clock.setTimeout(() => ws.terminate(), closeTimeoutMs)
    ws.once('close', () => clock.clearTimeout(timer))
  }

  /**
   * Count, log and answer `refusal`: with its HTTP status; with its close code on `ws` when the upgrade
   * is done; else after completing it, or with 429 when the address keeps piling refusals up.
   */
  carryOut(refusal: Refusal, upgrade: Upgrade, ws?: WebSocket): void {
    const { metrics, slots, wss } = this.#deps
    metrics.upgradesRefused.inc({ reason: refusal.reason })
    if (refusal.log !== undefined) this.log(refusal.log)
    if ('http' in refusal) {
      abortHandshake(upgrade.socket, refusal.http.status, refusal.http.text)
      return
    }
    const { code, message } = refusal.close
    if (ws !== undefined) {
      this.close(ws, code, message)
      return
    }
    const { request, socket, head, key } = upgrade
    if (key !== undefined && slots.refusing(key) >= REFUSING_PER_ADDRESS) {
      abortHandshake(socket, 429, 'Too Many Requests', 'Retry-After: 5\r\n')
      return
    }
    if (key !== undefined) slots.refuse(socket, key)
    wss.handleUpgrade(request, socket, head, (upgraded) => {
      this.watch(upgraded)
      this.close(upgraded, code, message)
    })
  }
}
