import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { SUBPROTOCOL } from '@roomwire/protocol'
import type { Logger } from 'pino'
import type WebSocket from 'ws'
import type { WebSocketServer } from 'ws'
import { type AuthOutcome, redactUrl } from './auth'
import { AuthBackoff } from './auth-backoff'
import { addressKey, clientAddress, isLoopback, parseTrustedProxies } from './client-address'
import { LogThrottle, REFUSAL_LOG_INTERVAL_MS, REFUSAL_LOG_LINES } from './log-throttle'
import { closeCodeLabel, type ServerMetrics, type UpgradeRefusal } from './metrics'
import type { ResolvedLimits } from './options'
import { isOriginAllowed } from './origin'

/** What admission needs from its server. */
export interface AdmissionDeps {
  readonly wss: WebSocketServer
  readonly limits: ResolvedLimits
  readonly allowedOrigins: ReadonlySet<string> | undefined
  readonly trustedProxies: readonly string[]
  readonly authenticate: (request: IncomingMessage) => Promise<AuthOutcome>
  readonly metrics: ServerMetrics
  readonly log: Logger
  readonly now: () => number
  /** False once the server started shutting down. */
  isAccepting(): boolean
  /** Connections open on this node. */
  openConnections(): number
  /** A socket passed every check: make it a connection. `address` is the client's (see trustedProxies). */
  accepted(
    ws: WebSocket,
    request: IncomingMessage,
    auth: AuthOutcome & { ok: true },
    address: string | undefined,
  ): void
}

/** The upgrade side of a server: who may connect. */
export interface Admission {
  /** Complete or refuse one WebSocket upgrade. Never throws. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Close a socket right after its upgrade, and destroy it if the close does not finish. */
  refuse(ws: WebSocket, code: number, reason: string): void
}

/**
 * Upgrades refused after the upgrade that one address may have closing at once; past it the address
 * gets HTTP 429 before the upgrade. A browser cannot read a failed upgrade's status (PROTOCOL.md,
 * "Transport"), so refusals are close codes, but one that keeps opening sockets while its last 16
 * refusals are still closing is not a browser following them: it gets the cheap answer.
 */
const REFUSING_PER_ADDRESS = 16

/** Addresses whose failed authentications are remembered at once. */
const MAX_BACKOFF_ADDRESSES = 10_000

/** Sockets of one address: admitted (authenticating or open) and refused but not yet closed. */
interface AddressSlots {
  readonly key: string
  open: number
  refusing: number
}

function destroyOnError(this: Duplex): void {
  this.destroy()
}

function abortHandshake(socket: Duplex, status: number, text: string, headers = ''): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${headers}Content-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

/** An `Origin` header as a log line may quote it (a peer chooses it). */
function loggedOrigin(origin: string): string {
  return origin.length > 128 ? `${origin.slice(0, 128)}…` : origin
}

/**
 * Admission: origin, per-address connection cap, failed-auth backoff, authentication, subprotocol and
 * capacity, in that order, each refused per PROTOCOL.md's conventions: a disallowed `Origin` with HTTP 403
 * before the upgrade; everything a client can act on after it, with a close code a browser can read
 * (4001, 4400, 1013). Sockets are counted per client address (an IPv6 address by its /64) from the upgrade
 * request until the socket closes, with one shared `close` listener and no closure per socket. Loopback
 * peers are neither counted nor backed off (see `isLoopback`).
 */
export function createAdmission(deps: AdmissionDeps): Admission {
  const { wss, limits, metrics, log, now } = deps
  const trusted = parseTrustedProxies(deps.trustedProxies)
  const backoff = new AuthBackoff({
    failures: limits.authFailuresPerAddress,
    windowMs: limits.authFailureWindowMs,
    backoffMs: limits.authBackoffMs,
    maxMs: limits.authBackoffMaxMs,
    maxAddresses: MAX_BACKOFF_ADDRESSES,
  })
  const byAddress = new Map<string, AddressSlots>()
  const openSlot = new WeakMap<Duplex, AddressSlots>()
  const refusingSlot = new WeakMap<Duplex, AddressSlots>()
  const logs = {
    origin: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
    auth: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
    address: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
    capacity: new LogThrottle(REFUSAL_LOG_LINES, REFUSAL_LOG_INTERVAL_MS),
  }

  function logLine(
    kind: keyof typeof logs,
    level: 'info' | 'warn',
    fields: Record<string, unknown>,
    msg: string,
  ): void {
    if (!log.isLevelEnabled(level)) return
    const suppressed = logs[kind].take(now())
    if (suppressed === undefined) return
    log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg)
  }

  function count(reason: UpgradeRefusal): void {
    metrics.upgradesRefused.inc({ reason })
  }

  function onSocketClosed(this: Duplex): void {
    const open = openSlot.get(this)
    if (open !== undefined) open.open--
    const refusing = refusingSlot.get(this)
    if (refusing !== undefined) refusing.refusing--
    const slots = open ?? refusing
    if (slots !== undefined && slots.open <= 0 && slots.refusing <= 0) byAddress.delete(slots.key)
  }

  /** The slots of `key`, made (and kept until its last socket closes) when a socket takes one. */
  function slotsOf(key: string): AddressSlots {
    let slots = byAddress.get(key)
    if (slots === undefined) {
      slots = { key, open: 0, refusing: 0 }
      byAddress.set(key, slots)
    }
    return slots
  }

  function refuse(ws: WebSocket, code: number, reason: string): void {
    metrics.closes.inc({ code: closeCodeLabel(code) })
    ws.close(code, reason)
    const timer = setTimeout(() => ws.terminate(), limits.closeTimeoutMs)
    timer.unref()
    ws.once('close', () => clearTimeout(timer))
  }

  /** Refuse with a close code after the upgrade, or with 429 when the address keeps piling refusals up. */
  function refuseAfterUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    key: string,
    code: number,
    reason: string,
  ): void {
    if ((byAddress.get(key)?.refusing ?? 0) >= REFUSING_PER_ADDRESS) {
      abortHandshake(socket, 429, 'Too Many Requests', 'Retry-After: 5\r\n')
      return
    }
    const slots = slotsOf(key)
    slots.refusing++
    refusingSlot.set(socket, slots)
    socket.once('close', onSocketClosed)
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', onWsError)
      refuse(ws, code, reason)
    })
  }

  function onWsError(err: Error): void {
    log.debug({ err }, 'socket error')
  }

  function afterUpgrade(
    ws: WebSocket,
    request: IncomingMessage,
    auth: AuthOutcome,
    address: string | undefined,
  ): void {
    ws.on('error', onWsError)
    if (!auth.ok) {
      count('unauthorized')
      metrics.authFailures.inc()
      refuse(ws, auth.internal === true ? 1011 : 4001, auth.reason)
      return
    }
    if (ws.protocol !== '' && ws.protocol !== SUBPROTOCOL) {
      count('subprotocol')
      refuse(ws, 4400, `unsupported subprotocol; this server speaks ${SUBPROTOCOL}`)
      return
    }
    if (!deps.isAccepting()) {
      count('closing')
      refuse(ws, 1001, 'server shutting down')
      return
    }
    if (deps.openConnections() >= limits.maxConnections) {
      count('capacity')
      logLine('capacity', 'warn', { max: limits.maxConnections }, 'connection limit reached')
      refuse(ws, 1013, 'server at its connection limit; try again later')
      return
    }
    deps.accepted(ws, request, auth, address)
  }

  function authenticated(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    auth: AuthOutcome,
    address: string | undefined,
    key: string | undefined,
  ): void {
    if (!deps.isAccepting()) {
      count('closing')
      abortHandshake(socket, 503, 'Service Unavailable')
      return
    }
    if (socket.destroyed) return
    if (!auth.ok) {
      logLine(
        'auth',
        'info',
        { url: redactUrl(request.url), reason: auth.reason, address },
        'connection refused',
      )
      if (key !== undefined && auth.internal !== true && auth.unverified !== true) {
        const backoffMs = backoff.failed(key, now())
        if (backoffMs > 0) {
          logLine(
            'address',
            'warn',
            { address: key, backoffMs },
            'failed authentications from this address: refusing its upgrades for a while',
          )
        }
      }
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      try {
        afterUpgrade(ws, request, auth, address)
      } catch (err) {
        log.error({ err }, 'accepting a connection failed')
        ws.terminate()
      }
    })
  }

  function admit(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A reset during authentication must not become an unhandled 'error' (CVE-2024-38355 class).
    socket.on('error', destroyOnError)
    if (socket.destroyed) return
    if (!deps.isAccepting()) {
      count('closing')
      abortHandshake(socket, 503, 'Service Unavailable')
      return
    }
    const origin = request.headers.origin
    if (!isOriginAllowed(origin, deps.allowedOrigins)) {
      count('origin')
      logLine('origin', 'warn', { origin: loggedOrigin(origin ?? '') }, 'origin refused')
      abortHandshake(socket, 403, 'Forbidden')
      return
    }
    const address = clientAddress(request, trusted)
    if (isLoopback(address)) {
      authenticateThen(request, socket, head, address, undefined)
      return
    }
    const key = addressKey(address)
    const blockedMs = backoff.blockedFor(key, now())
    if (blockedMs > 0) {
      count('auth_backoff')
      refuseAfterUpgrade(
        request,
        socket,
        head,
        key,
        1013,
        'too many failed authentications from this address; try again later',
      )
      return
    }
    const cap = limits.maxConnectionsPerAddress
    if (cap > 0 && (byAddress.get(key)?.open ?? 0) >= cap) {
      count('address_cap')
      logLine(
        'address',
        'warn',
        { address: key, max: cap },
        'connection limit per address reached (a proxy in front? set trustedProxies)',
      )
      refuseAfterUpgrade(
        request,
        socket,
        head,
        key,
        1013,
        'too many connections from this address; try again later',
      )
      return
    }
    const slots = slotsOf(key)
    slots.open++
    openSlot.set(socket, slots)
    socket.once('close', onSocketClosed)
    authenticateThen(request, socket, head, address, key)
  }

  /** Authenticate, then upgrade; `key` is the address's slot key, undefined for an uncounted (loopback) one. */
  function authenticateThen(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    address: string | undefined,
    key: string | undefined,
  ): void {
    deps.authenticate(request).then(
      (auth) => {
        try {
          authenticated(request, socket, head, auth, address, key)
        } catch (err) {
          log.error({ err }, 'upgrade failed')
          socket.destroy()
        }
      },
      (err: unknown) => {
        log.error({ err }, 'authentication failed unexpectedly')
        abortHandshake(socket, 500, 'Internal Server Error')
      },
    )
  }

  return {
    handleUpgrade(request, socket, head) {
      try {
        admit(request, socket, head)
      } catch (err) {
        log.error({ err }, 'upgrade failed')
        socket.destroy()
      }
    },
    refuse,
  }
}
