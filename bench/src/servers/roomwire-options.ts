// Plain data, no import of @roomwire/server: the report reads it without loading the server.
/**
 * What the benchmark changes from roomwire's defaults, and only this: limits that exist to protect a
 * public server from one abusive client would otherwise refuse the load itself. Everything else
 * (history of 100 per room, presence, heartbeat, the 1 MiB slow-consumer cap, validation) stays on.
 */
export const ROOMWIRE_BENCH_OPTIONS = {
  // One room of 5,000 members plus the publisher (default 1,000).
  maxMembersPerRoom: 10_000,
  // 10,000 connections plus the harness's own (default 10,000).
  maxConnections: 20_000,
  // The fan-out publisher sends thousands of messages per second (default 100/s, burst 200).
  rateLimitPerSec: 0,
  // A stopping server process need not spread its closes over a second.
  shutdownSpreadMs: 0,
  logLevel: 'silent',
} as const
