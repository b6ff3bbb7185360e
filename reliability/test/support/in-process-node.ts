import { createRoomServer, type RoomServer, type RoomServerOptions } from '@roomwire/server'
import { createRedisAdapter, type RedisAdapterOptions } from '@roomwire/server/redis'

/** A room server in the test's own process on a free loopback port (for tests without process faults). */
export interface InProcessNode {
  readonly server: RoomServer
  readonly port: number
  readonly url: string
  readonly httpUrl: string
  health(): Promise<{ status: string; reason?: string }>
  /** A metric's value from `/metrics`, the first series whose labels contain `labels` (0 when absent). */
  metric(name: string, labels?: string): Promise<number>
  close(): Promise<void>
}

/**
 * Start a node; with `redis`, on the Redis adapter with the short liveness timings the model uses
 * (node key 1.5 s, heartbeat and reaping every 300 ms, commands time out after 500 ms).
 */
export async function startInProcessNode(
  options: Omit<RoomServerOptions, 'port' | 'host' | 'adapter'> & { redis?: RedisAdapterOptions } = {},
): Promise<InProcessNode> {
  const { redis, ...serverOptions } = options
  const server = createRoomServer({
    rateLimitPerSec: 0,
    ...serverOptions,
    port: 0,
    host: '127.0.0.1',
    ...(redis === undefined
      ? {}
      : {
          adapter: createRedisAdapter({
            nodeTtlMs: 1500,
            heartbeatIntervalMs: 300,
            reapIntervalMs: 300,
            commandTimeoutMs: 500,
            connectTimeoutMs: 2000,
            maxReconnectDelayMs: 100,
            ...redis,
          }),
        }),
  })
  await server.ready
  const port = server.address()!.port
  const httpUrl = `http://127.0.0.1:${port}`
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl,
    async health() {
      return (await (await fetch(`${httpUrl}/health`)).json()) as { status: string; reason?: string }
    },
    async metric(name, labels = '') {
      const text = await (await fetch(`${httpUrl}/metrics`)).text()
      for (const line of text.split('\n')) {
        if (!line.startsWith(name) || !line.includes(labels)) continue
        const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line)
        if (match?.[1] === name) return Number(match[3])
      }
      return 0
    },
    close: () => server.close({ timeoutMs: 1000 }),
  }
}
