import type { WebSocketConstructor } from '@roomwire/client'
import type { ClientMessage, ServerMessage, ServerMessageType } from '@roomwire/protocol'
import WebSocket from 'ws'
import { RoomwireTestError } from './errors'
import { EventQueue, type NextOptions } from './event-queue'

/** How long a closing client's handshake may take before its socket is terminated. */
const CLOSE_GRACE_MS = 250

/** A server frame of one `type`. */
export type ServerFrame<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>

/** The test client's wire, for protocol-level tests. */
export interface RawFrames {
  /**
   * Write a frame on the client's open socket, beside the client's own traffic: an object is sent as
   * JSON, a string as it is (to test refusals of malformed frames).
   */
  send(frame: ClientMessage | Record<string, unknown> | string): void
  /** The oldest server frame of this `type` not taken yet, over every connection the client made. */
  next<T extends ServerMessageType>(type: T, options?: NextOptions<ServerFrame<T>>): Promise<ServerFrame<T>>
  /** Every server frame of this `type` so far. */
  received<T extends ServerMessageType>(type: T): ServerFrame<T>[]
}

/**
 * A `ws` WebSocket constructor for the client that records what the server sends before the client
 * reads it, and keeps the open sockets so `raw.send` can write and `close` can wait for them.
 */
export class Wire {
  readonly #queue: EventQueue
  readonly #sockets = new Set<WebSocket>()
  readonly #owner: string
  readonly constructorForClient: WebSocketConstructor
  readonly raw: RawFrames

  constructor(owner: string) {
    this.#owner = owner
    this.#queue = new EventQueue(`${owner}'s socket`)
    const wire = this
    // A constructor may return another object: the client gets a plain `ws` socket, watched.
    this.constructorForClient = function RecordingWebSocket(url: string, protocols?: string | string[]) {
      return wire.#open(url, protocols)
    } as unknown as WebSocketConstructor
    this.raw = {
      send: (frame) => this.#send(frame),
      next: (type, options) => this.#queue.next(type, options as NextOptions<unknown>) as never,
      received: (type) => this.#queue.received(type) as never,
    }
  }

  #open(url: string, protocols?: string | string[]): WebSocket {
    const socket = new WebSocket(url, protocols)
    this.#sockets.add(socket)
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      try {
        const frame = JSON.parse(data.toString()) as { type?: unknown }
        if (typeof frame?.type === 'string') this.#queue.push(frame.type, frame)
      } catch {
        // Not JSON: the client reports it as bad_frame; nothing a frame type could name.
      }
    })
    socket.on('close', () => this.#sockets.delete(socket))
    return socket
  }

  #send(frame: ClientMessage | Record<string, unknown> | string): void {
    const open = [...this.#sockets].find((s) => s.readyState === WebSocket.OPEN)
    if (open === undefined)
      throw new RoomwireTestError('misuse', `${this.#owner} has no open socket to send on`)
    open.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /**
   * Resolves when every socket this wire opened is closed: the client's close handshake gets
   * {@link CLOSE_GRACE_MS}, then the socket is terminated.
   */
  async closed(): Promise<void> {
    await Promise.all(
      [...this.#sockets].map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve()
            const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS)
            socket.once('close', () => {
              clearTimeout(timer)
              resolve()
            })
          }),
      ),
    )
    this.#queue.close(`${this.#owner} closed`)
  }
}
