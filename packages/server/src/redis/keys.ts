/** The keys of one room, as every room script names them. */
export interface RoomKeys {
  /** Hash: `epoch`, `seq`, `bytes` (bytes of frames in `hist`). */
  state: string
  /** List, newest first, of `skip\nframe`. */
  hist: string
  /** Sorted set: message id -> seq, exactly the ids of the messages in `hist`. */
  ids: string
  /** Hash: member id -> member JSON. */
  members: string
  /** Hash: member id -> id of the node that holds its connection. */
  owners: string
}

/** The index of rooms without members whose state is still kept (see idle-rooms.ts). */
export interface IdleKeys {
  /** Sorted set: room -> when it became empty (Redis clock, ms). */
  idle: string
  /** Hash: room -> bytes of its history, as counted in `idle_total`. */
  idle_bytes: string
  /** Integer: bytes of history held by every room in `idle`. */
  idle_total: string
}

/** Every Redis key and channel name of the adapter, under one prefix. */
export interface KeyLayout {
  room(room: string): RoomKeys
  /** The pub/sub channel of one room's frames. */
  roomChannel(room: string): string
  readonly idle: IdleKeys
  /** Set of rooms with at least one member. */
  readonly rooms: string
  /** Set of node ids that registered (live or not yet reaped). */
  readonly nodes: string
  /** A node's heartbeat key (its generation, with a TTL the live node refreshes); also its channel. */
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
      return {
        state: `${base}state`,
        hist: `${base}hist`,
        ids: `${base}ids`,
        members: `${base}members`,
        owners: `${base}owners`,
      }
    },
    roomChannel: (room) => `${prefix}room:{${room}}`,
    idle: { idle: `${prefix}idle`, idle_bytes: `${prefix}idle:bytes`, idle_total: `${prefix}idle:total` },
    rooms: `${prefix}rooms`,
    nodes: `${prefix}nodes`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    nodeRooms: (nodeId) => `${prefix}node:${nodeId}:rooms`,
    nodeConns: (nodeId) => `${prefix}node:${nodeId}:conns`,
    conns: `${prefix}conns`,
    direct: `${prefix}direct`,
  }
}
