/** Every Redis key and channel name of the adapter, under one prefix. */
export interface KeyLayout {
  /** The keys of one room, in the order the scripts take them: state hist ids members owners. */
  room(room: string): [string, string, string, string, string]
  /** The pub/sub channel of one room's frames. */
  roomChannel(room: string): string
  /** Set of rooms with at least one member. */
  readonly rooms: string
  /** Set of node ids that registered (live or not yet reaped). */
  readonly nodes: string
  /** A node's heartbeat key (a TTL a live node refreshes); also the channel of its direct messages. */
  node(nodeId: string): string
  /** Set of rooms where a node has (or had) members, for reaping. */
  nodeRooms(nodeId: string): string
  /** Set of a node's connection ids, for reaping. */
  nodeConns(nodeId: string): string
  /** Hash connection id -> node id, for direct messages. */
  readonly conns: string
  /** Channel of connection-level broadcasts (`broadcastAll/To/Except`). */
  readonly direct: string
}

/**
 * The key layout under `prefix`. A room's keys share the hash tag `{room}` (room names never contain
 * braces), which keeps each room's keys in one slot.
 */
export function keyLayout(prefix: string): KeyLayout {
  return {
    room: (room) => {
      const base = `${prefix}room:{${room}}:`
      return [`${base}state`, `${base}hist`, `${base}ids`, `${base}members`, `${base}owners`]
    },
    roomChannel: (room) => `${prefix}room:{${room}}`,
    rooms: `${prefix}rooms`,
    nodes: `${prefix}nodes`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    nodeRooms: (nodeId) => `${prefix}node:${nodeId}:rooms`,
    nodeConns: (nodeId) => `${prefix}node:${nodeId}:conns`,
    conns: `${prefix}conns`,
    direct: `${prefix}direct`,
  }
}
