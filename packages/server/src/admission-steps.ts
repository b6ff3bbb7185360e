import { SUBPROTOCOL } from '@roomwire/protocol'
import type { AuthOutcome } from './auth'
import type { UpgradeRefusal } from './metrics'
import { isOriginAllowed } from './origin'

/** A log line a refusal asks for, throttled per `kind`. */
export interface RefusalLog {
  kind: 'origin' | 'auth' | 'address' | 'capacity'
  level: 'info' | 'warn'
  fields: Record<string, unknown>
  msg: string
}

/**
 * Why and how an upgrade is refused: before the upgrade with an HTTP status (what a browser cannot read,
 * so only where no client should act on it), or after it with a close code a browser can read
 * (PROTOCOL.md, "Transport").
 */
export type Refusal = { ok: false; reason: UpgradeRefusal; log?: RefusalLog } & (
  | { http: { status: number; text: string } }
  | { close: { code: number; message: string } }
)

/** What one admission step decides. */
export type Step = { ok: true } | Refusal

/** The first refusal of `steps`, run in order until one refuses; or a pass. */
export function firstRefusal<S extends Step>(...steps: (() => S)[]): S | { ok: true } {
  for (const step of steps) {
    const outcome = step()
    if (!outcome.ok) return outcome
  }
  return PASS
}

/** A refusal after the upgrade. */
export type CloseRefusal = Refusal & { close: { code: number; message: string } }

/** What a step after the upgrade decides: only a close code can answer then. */
export type CloseStep = { ok: true } | CloseRefusal

const PASS = { ok: true } as const

/** The server is shutting down: 503 before the upgrade. */
export function acceptingStep(accepting: boolean): Step {
  return accepting
    ? PASS
    : { ok: false, reason: 'closing', http: { status: 503, text: 'Service Unavailable' } }
}

/** An `Origin` header as a log line may quote it (a peer chooses it). */
function loggedOrigin(origin: string): string {
  return origin.length > 128 ? `${origin.slice(0, 128)}…` : origin
}

/** A disallowed `Origin`: 403 before the upgrade (a page elsewhere must not even open the socket). */
export function originStep(origin: string | undefined, allowed: ReadonlySet<string> | undefined): Step {
  if (isOriginAllowed(origin, allowed)) return PASS
  return {
    ok: false,
    reason: 'origin',
    http: { status: 403, text: 'Forbidden' },
    log: {
      kind: 'origin',
      level: 'warn',
      fields: { origin: loggedOrigin(origin ?? '') },
      msg: 'origin refused',
    },
  }
}

/** What the address step knows of one (counted, not loopback) client address. */
export interface AddressState {
  key: string
  /** How long its failed authentications still back it off; 0 when they do not. */
  blockedMs: number
  /** Its sockets admitted and not closed. */
  open: number
  /** The cap per address; 0 turns it off. */
  cap: number
}

/** An address backed off after failed authentications, or at its connection cap: 1013. */
export function addressStep({ key, blockedMs, open, cap }: AddressState): Step {
  if (blockedMs > 0) {
    return {
      ok: false,
      reason: 'auth_backoff',
      close: { code: 1013, message: 'too many failed authentications from this address; try again later' },
    }
  }
  if (cap > 0 && open >= cap) {
    return {
      ok: false,
      reason: 'address_cap',
      close: { code: 1013, message: 'too many connections from this address; try again later' },
      log: {
        kind: 'address',
        level: 'warn',
        fields: { address: key, max: cap },
        msg: 'connection limit per address reached (a proxy in front? set trustedProxies)',
      },
    }
  }
  return PASS
}

/** A failed authentication: 4001, or 1011 when the server failed to authenticate. */
export function authRefusal(auth: AuthOutcome & { ok: false }): CloseRefusal {
  return {
    ok: false,
    reason: 'unauthorized',
    close: { code: auth.internal === true ? 1011 : 4001, message: auth.reason },
  }
}

/** A subprotocol this server does not speak (none at all is accepted): 4400. */
export function subprotocolStep(protocol: string): CloseStep {
  if (protocol === '' || protocol === SUBPROTOCOL) return PASS
  return {
    ok: false,
    reason: 'subprotocol',
    close: { code: 4400, message: `unsupported subprotocol; this server speaks ${SUBPROTOCOL}` },
  }
}

/** After the upgrade: shutting down meanwhile (1001), or the server at its connection limit (1013). */
export function capacityStep(accepting: boolean, open: number, max: number): CloseStep {
  if (!accepting)
    return { ok: false, reason: 'closing', close: { code: 1001, message: 'server shutting down' } }
  if (open < max) return PASS
  return {
    ok: false,
    reason: 'capacity',
    close: { code: 1013, message: 'server at its connection limit; try again later' },
    log: { kind: 'capacity', level: 'warn', fields: { max }, msg: 'connection limit reached' },
  }
}
