import type {
  HandlerInput,
  HandlerOutput,
  Protocol,
  RequestErrorCode,
  RequestMap,
  RequestName,
  RoomRequestName,
} from '@roomwire/protocol'
import type { ConnectionInfo } from './options'
import type { RequestRefusal } from './request-error'
import type { RoomServer } from './room-server'

/** What a request handler knows about its call besides the input. */
export interface RequestContext<P extends Protocol = Protocol, K extends string = string> {
  /** The calling connection. */
  readonly connection: ConnectionInfo
  /** The room of a room request (declared `room: true`; the caller has joined it); undefined otherwise. */
  readonly room: K extends RoomRequestName<P> ? string : undefined
  /** The request id the caller chose (the dedupe key of idempotent requests). */
  readonly id: string
  /** The server API: broadcast, send directs, read rooms, across the cluster. */
  readonly server: RoomServer<P>
  /**
   * Fires when the caller goes away (its connection closed) or the request timed out: stop working, the
   * answer would be dropped.
   */
  readonly signal: AbortSignal
  /** A refusal to return instead of throwing a `RequestError`, with a code the request declares. */
  refuse(code: RequestErrorCode<P, K>, message: string): RequestRefusal<RequestErrorCode<P, K>>
}

/** The handler of request `K`: its output, or a refusal (returned or thrown as a `RequestError`). */
export type RequestHandler<P extends Protocol = Protocol, K extends string = string> = (
  input: HandlerInput<P, K>,
  ctx: RequestContext<P, K>,
) =>
  | HandlerOutput<P, K>
  | RequestRefusal<RequestErrorCode<P, K>>
  | Promise<HandlerOutput<P, K> | RequestRefusal<RequestErrorCode<P, K>>>

/**
 * One handler for every request the protocol declares (a missing one does not compile), or any names
 * when the protocol declares none.
 */
export type RequestHandlers<P extends Protocol = Protocol> = P['requests'] extends RequestMap
  ? { [K in RequestName<P>]: RequestHandler<P, K> }
  : Record<string, RequestHandler<P, string>>
