/** The wire protocol version this package speaks, sent in `welcome.protocol`. */
export const PROTOCOL_VERSION = 1 as const

/** The WebSocket subprotocol the SDK offers and the server selects. */
export const SUBPROTOCOL = 'roomwire.v1'
