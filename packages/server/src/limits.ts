import { excerpt, MAX_NESTING_DEPTH } from '@roomwire/protocol'
import { RoomServerError } from './errors'
import type { RoomServerOptions } from './options'

/** The numeric limits after defaults, as the server uses them. */
export interface ResolvedLimits {
  maxMessageBytes: number
  maxPresenceBytes: number
  maxMembersPerRoom: number
  memberListMax: number
  maxRoomsPerConnection: number
  historySize: number
  historyMaxBytes: number
  idleTimeoutMs: number
  historyPageMax: number
  replayBytesPerSec: number
  replayBurstBytes: number
  joinDrainTimeoutMs: number
  pingIntervalMs: number
  pongTimeoutMs: number
  maxConnections: number
  maxBufferedBytes: number
  maxNestingDepth: number
  rateLimitPerSec: number
  rateLimitBurst: number
  rateLimitWindowMs: number
  rateLimitBytesPerSec: number
  rateLimitBytesBurst: number
  maxConnectionsPerAddress: number
  authFailuresPerAddress: number
  authFailureWindowMs: number
  authBackoffMs: number
  authBackoffMaxMs: number
  authTimeoutMs: number
  closeTimeoutMs: number
  shutdownSpreadMs: number
  maxRequestsInFlight: number
  requestTimeoutMs: number
  requestDedupeEntries: number
  requestDedupeMs: number
}

/** Defaults from PROTOCOL.md. */
export const DEFAULT_LIMITS: ResolvedLimits = {
  maxMessageBytes: 65_536,
  maxPresenceBytes: 2048,
  maxMembersPerRoom: 1000,
  memberListMax: 1000,
  maxRoomsPerConnection: 10,
  historySize: 100,
  historyMaxBytes: 1_048_576,
  idleTimeoutMs: 3_600_000,
  historyPageMax: 200,
  replayBytesPerSec: 1_048_576,
  replayBurstBytes: 33_554_432,
  joinDrainTimeoutMs: 30_000,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxBufferedBytes: 1_048_576,
  maxNestingDepth: MAX_NESTING_DEPTH,
  rateLimitPerSec: 100,
  rateLimitBurst: 200,
  rateLimitWindowMs: 10_000,
  rateLimitBytesPerSec: 262_144,
  rateLimitBytesBurst: 1_048_576,
  maxConnectionsPerAddress: 1000,
  authFailuresPerAddress: 20,
  authFailureWindowMs: 60_000,
  authBackoffMs: 5_000,
  authBackoffMaxMs: 300_000,
  authTimeoutMs: 10_000,
  closeTimeoutMs: 2000,
  shutdownSpreadMs: 1000,
  maxRequestsInFlight: 16,
  requestTimeoutMs: 10_000,
  requestDedupeEntries: 10_000,
  requestDedupeMs: 300_000,
}

const positive = new Set<keyof ResolvedLimits>([
  'maxMessageBytes',
  'maxPresenceBytes',
  'maxMembersPerRoom',
  'maxRoomsPerConnection',
  'pingIntervalMs',
  'pongTimeoutMs',
  'maxConnections',
  'maxBufferedBytes',
  'historyMaxBytes',
  'historyPageMax',
  'replayBurstBytes',
  'joinDrainTimeoutMs',
  'authTimeoutMs',
  'closeTimeoutMs',
  'maxNestingDepth',
  'rateLimitWindowMs',
  'authFailureWindowMs',
  'authBackoffMs',
  'authBackoffMaxMs',
  'maxRequestsInFlight',
  'requestTimeoutMs',
  'requestDedupeMs',
])

/** Apply defaults and check every limit; throws `RoomServerError('invalid_config')` naming the option. */
export function resolveLimits(options: RoomServerOptions): ResolvedLimits {
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
    const value = options[key]
    if (value === undefined) continue
    const min = positive.has(key) ? 1 : 0
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new RoomServerError(
        'invalid_config',
        `option ${key} is ${excerpt(value)}; expected a number ${min === 1 ? 'above 0' : 'of 0 or more'}`,
      )
    }
    limits[key] = value
  }
  for (const key of [
    'maxMessageBytes',
    'maxMembersPerRoom',
    'memberListMax',
    'maxRoomsPerConnection',
    'historySize',
    'historyPageMax',
    'maxNestingDepth',
    'maxConnectionsPerAddress',
    'authFailuresPerAddress',
    'maxRequestsInFlight',
    'requestDedupeEntries',
  ] as const) {
    if (!Number.isInteger(limits[key])) {
      throw new RoomServerError('invalid_config', `option ${key} is ${limits[key]}; expected an integer`)
    }
  }
  // The protocol's decoders (the SDK's too) refuse deeper frames whatever a server announces.
  if (limits.maxNestingDepth > MAX_NESTING_DEPTH) {
    throw new RoomServerError(
      'invalid_config',
      `option maxNestingDepth is ${limits.maxNestingDepth}; expected an integer from 1 to ${MAX_NESTING_DEPTH}`,
    )
  }
  // `rateLimitPerSec: 0` has always meant "no rate limiting": it turns the byte budget off too unless that
  // is set on its own (tests, benchmarks and floods of trusted peers rely on it).
  if (options.rateLimitBytesPerSec === undefined && limits.rateLimitPerSec === 0) {
    limits.rateLimitBytesPerSec = 0
  }
  if (options.rateLimitBytesBurst === undefined) {
    limits.rateLimitBytesBurst = Math.max(limits.rateLimitBytesBurst, limits.maxMessageBytes)
  } else if (limits.rateLimitBytesPerSec > 0 && limits.rateLimitBytesBurst < limits.maxMessageBytes) {
    throw new RoomServerError(
      'invalid_config',
      `option rateLimitBytesBurst is ${limits.rateLimitBytesBurst}; expected at least maxMessageBytes (${limits.maxMessageBytes}), or the largest frames could never pass`,
    )
  }
  limits.authBackoffMaxMs = Math.max(limits.authBackoffMaxMs, limits.authBackoffMs)
  // Timers past 2^31-1 ms fire at once in Node; an idle timeout that long means "keep forever" in practice.
  limits.idleTimeoutMs = Math.min(limits.idleTimeoutMs, 2_147_483_647)
  limits.requestTimeoutMs = Math.min(limits.requestTimeoutMs, 2_147_483_647)
  return limits
}
