/** The types the server's hooks (`authenticate`, `authorize`, `onPublish`, the lifecycle hooks) take and return. */
import type { ErrorCode } from '@roomwire/protocol'

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

/** What `authorize` is asked. */
export type AuthorizeRequest =
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
      event: string
    }
  | {
      action: 'direct'
      connection: ConnectionInfo
      user: string | undefined
      connectionId: string
      to: string
      event: string
    }

/** A publish as `onPublish` sees it. */
export interface PublishContext {
  connection: ConnectionInfo
  room: string
  event: string
  data: unknown
  id: string | undefined
}

/** What `onPublish` decides: nothing (publish as is), new `data`, or a refusal sent back as `error`. */
export type PublishDecision = undefined | { data: unknown } | { error: ErrorCode; message?: string }

/** Hooks that may return a promise. */
export type MaybePromise<T> = T | Promise<T>
