import type { DirectEventMessage } from '@roomwire/protocol'
import type { ConnectionTarget } from '../adapter'
import { parseFrame } from './frames'
import type { KeyLayout } from './keys'
import type { RoomFeed } from './room-feed'

/** Where the {@link ChannelRouter} hands what it routes. */
export interface RouterTargets {
  /** A direct message for local connections. */
  direct(target: ConnectionTarget, message: DirectEventMessage): void
  /** A liveness probe this node sent itself (see StoreLink). */
  probe(token: string): void
  /** The feed of a room channel, if this node has one. */
  feed(channel: string): RoomFeed | undefined
}

/**
 * Routes what the subscriber receives. Channels and their payloads:
 * - this node's own channel: `connectionId\nmessage` (a direct message for one of its connections) or
 *   `#token` (a liveness probe from its own heartbeat);
 * - the direct channel: `senderNodeId\n{target, message}` (a broadcast to connections on every node);
 * - a room channel: `skip\nframe` or `#mark` (see frames.ts), for the room's feed.
 */
export class ChannelRouter {
  readonly #nodeChannel: string
  readonly #directChannel: string
  readonly #nodeId: string
  readonly #targets: RouterTargets

  constructor(keys: KeyLayout, nodeId: string, targets: RouterTargets) {
    this.#nodeChannel = keys.node(nodeId)
    this.#directChannel = keys.direct
    this.#nodeId = nodeId
    this.#targets = targets
  }

  /** Route one payload; throws only on a malformed direct payload (the caller logs it). */
  route(channel: string, payload: string): void {
    if (channel === this.#nodeChannel) {
      if (payload.startsWith('#')) {
        this.#targets.probe(payload.slice(1))
        return
      }
      const cut = payload.indexOf('\n')
      const message = JSON.parse(payload.slice(cut + 1)) as DirectEventMessage
      this.#targets.direct({ kind: 'only', ids: [payload.slice(0, cut)] }, message)
      return
    }
    if (channel === this.#directChannel) {
      const cut = payload.indexOf('\n')
      if (payload.slice(0, cut) === this.#nodeId) return
      const { target, message } = JSON.parse(payload.slice(cut + 1)) as {
        target: ConnectionTarget
        message: DirectEventMessage
      }
      this.#targets.direct(target, message)
      return
    }
    const feed = this.#targets.feed(channel)
    if (feed === undefined) return
    const frame = parseFrame(payload)
    if (frame !== undefined) feed.receive(frame)
  }
}
