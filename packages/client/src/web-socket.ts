import IsomorphicWebSocket from 'isomorphic-ws'

/**
 * An event handler property, compared bivariantly (as methods are) so that implementations whose handlers
 * take a richer event type (`ws`'s `MessageEvent`, the DOM's) still fit.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

/** The part of a WebSocket the client uses: browsers, undici, `ws` and test fakes all fit. */
export interface WebSocketLike {
  readonly readyState: number
  readonly protocol?: string
  binaryType?: string
  onopen: Handler<never> | null
  onmessage: Handler<{ data: unknown }> | null
  onclose: Handler<{ code: number; reason: string }> | null
  /** Typed `never` so any implementation's handler fits; `ws` and undici give an event with a `message`. */
  onerror: Handler<never> | null
  send(data: string): void
  close(code?: number, reason?: string): void
  /** `ws` only: destroy the socket without a closing handshake. */
  terminate?(): void
}

/** A WebSocket constructor, as `globalThis.WebSocket`, `ws` or a fake. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/**
 * The constructor for this attempt: the option, else `globalThis.WebSocket`, else isomorphic-ws (`ws` in
 * Node). Looked up at every connect, not at import, because msw and test setups replace the global later.
 */
export function resolveWebSocket(option: WebSocketConstructor | undefined): WebSocketConstructor | undefined {
  if (option !== undefined) return option
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (typeof global === 'function') return global
  const fallback = IsomorphicWebSocket as unknown as WebSocketConstructor | null
  return typeof fallback === 'function' ? fallback : undefined
}

/** readyState values (the constants are not on every implementation's instances). */
export const OPEN = 1
