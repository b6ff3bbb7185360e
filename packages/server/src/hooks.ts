/** The types the server's hooks (`authenticate`, `authorize`, `onPublish`, the lifecycle hooks) take and return. */
import type { DirectName, ErrorCode, EventData, EventName, Protocol } from '@roomwire/protocol'

/**
 * Any protocol: the default type argument of the server's types, so a server typed by its protocol is
 * still a plain `RoomServer` (with `Protocol` itself the two would not be assignable).
 */
// biome-ignore lint/suspicious/noExplicitAny: only `any` makes every typed server assignable to the default
export type AnyProtocol = Protocol<any, any, any, any>

/** What `authenticate` returns to accept a connection; `null` refuses it with 4001. */
export interface AuthResult {
  /** The identity, sent to others as `user`. */
  user?: string
  /** Anything the application wants to keep with the connection; handed back in hooks. */
  data?: unknown
}

/** A connection as hooks see it. */
export interface ConnectionInfo {
  readonly id: string
  readonly user: string | undefined
  /** What `authenticate` returned as `data`, or the verified JWT payload. */
  readonly data: unknown
  readonly remoteAddress: string | undefined
}

/**
 * What `authorize` is asked. With a protocol, `event` is one it declares: the server validates a publish
 * or direct message before it asks.
 */
export type AuthorizeRequest<P extends Protocol = AnyProtocol> =
  | {
      action: 'join' | 'presence'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      room: string
    }
  | {
      action: 'publish'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      room: string
      event: EventName<P>
    }
  | {
      action: 'direct'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      to: string
      event: DirectName<P>
    }

/**
 * A publish as `onPublish` sees it, after validation: with a protocol, a union by `event`, so checking
 * `event` narrows `data` to that event's payload.
 */
export type PublishContext<P extends Protocol = AnyProtocol> = {
  [K in EventName<P>]: {
    connection: ConnectionInfo
    room: string
    event: K
    data: EventData<P, K>
    id: string | undefined
  }
}[EventName<P>]

/** What `onPublish` decides: nothing (publish as is), new `data`, or a refusal sent back as `error`. */
export type PublishDecision = undefined | { data: unknown } | { error: ErrorCode; message?: string }

/** Hooks that may return a promise. */
export type MaybePromise<T> = T | Promise<T>
