import type { Redis } from 'ioredis'
import type { KeyLayout } from './keys'
import { bindScript, defineScript, FENCE } from './lua'

/**
 * The scripts of a node's registration: its heartbeat key holds its generation, a token made fresh each
 * time the node registers. Only {@link REGISTER} creates the key; a heartbeat refreshes it only while it
 * still holds the same generation, so a heartbeat that reaches Redis late never brings back a node that
 * was reaped meanwhile (issue 13), and the node learns that it must register again.
 */

const REGISTER = defineScript({
  name: 'roomwireRegister',
  keys: ['node', 'nodes'],
  args: ['node_id', 'generation', 'ttl_ms'],
  lua: `
redis.call('SET', K.node, A.generation, 'PX', A.ttl_ms)
redis.call('SADD', K.nodes, A.node_id)
return 1
`,
  reply: (r) => void r.int(),
})

const HEARTBEAT = defineScript({
  name: 'roomwireHeartbeat',
  keys: ['node', 'nodes'],
  args: ['node_id', 'generation', 'ttl_ms', 'probe'],
  // The probe goes out on the node's own channel: the node hears it only if its subscriber works too.
  lua: `${FENCE}
if not registered() then return 0 end
redis.call('PEXPIRE', K.node, A.ttl_ms)
redis.call('SADD', K.nodes, A.node_id)
redis.call('PUBLISH', K.node, '#' .. A.probe)
return 1
`,
  reply: (r) => r.flag(),
})

const DIRECT = defineScript({
  name: 'roomwireDirect',
  keys: ['conns'],
  args: ['target_id', 'node_id', 'prefix', 'payload'],
  lua: `
local owner = redis.call('HGET', K.conns, A.target_id)
if not owner or owner == A.node_id then return 0 end
return redis.call('PUBLISH', A.prefix .. 'node:' .. owner, A.target_id .. '\\n' .. A.payload)
`,
  // How many subscribers received it: 0 when no other node holds the connection.
  reply: (r) => r.int() > 0,
})

/** The node scripts bound to one connection. */
export function nodeScripts(redis: Redis, keys: KeyLayout, prefix: string) {
  const run = {
    register: bindScript(redis, REGISTER),
    heartbeat: bindScript(redis, HEARTBEAT),
    direct: bindScript(redis, DIRECT),
  }
  return {
    /** Register this node under a new generation (the old one is fenced off from then on). */
    async register(nodeId: string, generation: string, ttlMs: number): Promise<void> {
      await run.register(
        { node: keys.node(nodeId), nodes: keys.nodes },
        { node_id: nodeId, generation, ttl_ms: ttlMs },
      )
    },
    /**
     * Refresh the registration and send `probe` to this node's own channel. False when the registration
     * lapsed (its key expired, or the node was reaped): nothing was refreshed.
     */
    async heartbeat(nodeId: string, generation: string, ttlMs: number, probe: string): Promise<boolean> {
      return run.heartbeat(
        { node: keys.node(nodeId), nodes: keys.nodes },
        { node_id: nodeId, generation, ttl_ms: ttlMs, probe },
      )
    },
    /** Hand a direct message to the node holding connection `to`; false when no other node has it. */
    async direct(nodeId: string, to: string, encoded: string): Promise<boolean> {
      return run.direct({ conns: keys.conns }, { target_id: to, node_id: nodeId, prefix, payload: encoded })
    },
  }
}

/** The node scripts of one adapter. */
export type NodeScripts = ReturnType<typeof nodeScripts>
