import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type WebSocket from 'ws'
import type { WebSocketServer } from 'ws'
import { AddressSlots } from './address-slots'
import {
  acceptingStep,
  addressStep,
  authRefusal,
  capacityStep,
  firstRefusal,
  originStep,
  subprotocolStep,
} from './admission-steps'
import { type AuthOutcome, redactUrl } from './auth'
import { AuthBackoff } from './auth-backoff'
import { addressKey, clientAddress, isLoopback, parseTrustedProxies } from './client-address'
import { type Clock, systemClock } from './clock'
import type { ResolvedLimits } from './limits'
import type { ServerMetrics } from './metrics'
import { abortHandshake, type Upgrade, UpgradeRefusals } from './upgrade-refusals'

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
  /** Times the close handshake of a refused socket. @default systemClock */
  readonly clock?: Clock
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

/** Addresses whose failed authentications are remembered at once. */
const MAX_BACKOFF_ADDRESSES = 10_000

function destroyOnError(this: Duplex): void {
  this.destroy()
}

/**
 * Admission, in steps that each return an outcome (admission-steps.ts): accepting and origin (HTTP 503
 * and 403 before the upgrade), the address's failed-auth backoff and connection cap, then
 * authentication, subprotocol and capacity (close codes a browser can read: 1013, 4001, 4400, 1001).
 * Every refusal is carried out in one place ({@link UpgradeRefusals}): counted, logged and answered.
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
  const slots = new AddressSlots()
  const refusals = new UpgradeRefusals({
    wss,
    slots,
    metrics,
    log,
    clock: deps.clock ?? systemClock,
    now,
    closeTimeoutMs: limits.closeTimeoutMs,
  })

  /** The checks before authentication; a counted address takes its slot when they pass. */
  function admit(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A reset during authentication must not become an unhandled 'error' (CVE-2024-38355 class).
    socket.on('error', destroyOnError)
    if (socket.destroyed) return
    const address = clientAddress(request, trusted)
    const key = isLoopback(address) ? undefined : addressKey(address)
    const upgrade: Upgrade = { request, socket, head, address, key }
    const step = firstRefusal(
      () => acceptingStep(deps.isAccepting()),
      () => originStep(request.headers.origin, deps.allowedOrigins),
      () =>
        key === undefined
          ? { ok: true }
          : addressStep({
              key,
              blockedMs: backoff.blockedFor(key, now()),
              open: slots.open(key),
              cap: limits.maxConnectionsPerAddress,
            }),
    )
    if (!step.ok) {
      refusals.carryOut(step, upgrade)
      return
    }
    if (key !== undefined) slots.admit(socket, key)
    deps.authenticate(request).then(
      (auth) => {
        try {
          authenticated(upgrade, auth)
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

  /** A failed authentication is logged, and held against its address unless the server could not check it. */
  function noteFailure(upgrade: Upgrade, auth: AuthOutcome & { ok: false }): void {
    const { request, address, key } = upgrade
    refusals.log({
      kind: 'auth',
      level: 'info',
      fields: { url: redactUrl(request.url), reason: auth.reason, address },
      msg: 'connection refused',
    })
    if (key === undefined || auth.internal === true || auth.unverified === true) return
    const backoffMs = backoff.failed(key, now())
    if (backoffMs > 0) {
      refusals.log({
        kind: 'address',
        level: 'warn',
        fields: { address: key, backoffMs },
        msg: 'failed authentications from this address: refusing its upgrades for a while',
      })
    }
  }

  function authenticated(upgrade: Upgrade, auth: AuthOutcome): void {
    const accepting = acceptingStep(deps.isAccepting())
    if (!accepting.ok) {
      refusals.carryOut(accepting, upgrade)
      return
    }
    const { socket } = upgrade
    if (socket.destroyed) return
    if (!auth.ok) noteFailure(upgrade, auth)
    // Corked across the upgrade, so ws's 101 response and the welcome sent in its callback leave in one
    // write: a system call less per connection, and the client reads both in one segment.
    socket.cork()
    try {
      upgradeNow(upgrade, auth)
    } finally {
      socket.uncork()
    }
  }

  function upgradeNow(upgrade: Upgrade, auth: AuthOutcome): void {
    const { request, socket, head, address } = upgrade
    wss.handleUpgrade(request, socket, head, (ws) => {
      // ws handles the socket's errors now (and reports them on `ws`): a second listener for the
      // connection's life would make the socket's 'error' entry an array, in every idle connection.
      socket.removeListener('error', destroyOnError)
      try {
        refusals.watch(ws)
        if (!auth.ok) {
          metrics.authFailures.inc()
          refusals.carryOut(authRefusal(auth), upgrade, ws)
          return
        }
        const step = firstRefusal(
          () => subprotocolStep(ws.protocol),
          () => capacityStep(deps.isAccepting(), deps.openConnections(), limits.maxConnections),
        )
        if (!step.ok) {
          refusals.carryOut(step, upgrade, ws)
          return
        }
        deps.accepted(ws, request, auth, address)
      } catch (err) {
        log.error({ err }, 'accepting a connection failed')
        ws.terminate()
      }
    })
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
    refuse: (ws, code, reason) => refusals.close(ws, code, reason),
  }
}
