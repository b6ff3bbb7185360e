import { ERROR_CODES } from './codes'
import type { Schema } from './define-protocol'
import { checkSchema } from './definition-checks'
import { EVENT_NAME_PATTERN } from './name-rules'
import type { StandardSchemaV1 } from './standard-schema'

/**
 * One request an application declares: the schemas of what the caller sends and gets back, and the
 * codes its handler may refuse with, so callers can switch on them.
 */
export interface RequestDefinition<
  I extends Schema = Schema,
  O extends Schema = Schema,
  C extends string = string,
> {
  input: I
  output: O
  /** The codes the handler may refuse with (in a `reply`'s `error`). @default none */
  errors?: readonly C[]
  /**
   * The handler may run twice without harm: the SDK resends it after a reconnect with the same id, and
   * the server answers a resend with the first result while it remembers it (PROTOCOL.md, "Requests").
   * @default false
   */
  idempotent?: boolean
  /** A per-room request: the caller names a room it has joined, and the handler knows the room. */
  room?: true
}

/** Request names mapped to their definitions. */
export type RequestMap = Record<string, RequestDefinition>

/** What client and server need to know about one request at runtime. */
export interface RequestInfo {
  readonly name: string
  readonly room: boolean
  readonly idempotent: boolean
  /** The declared refusal codes. */
  readonly errors: ReadonlySet<string>
  readonly input: Schema | undefined
  readonly output: Schema | undefined
}

/** Codes a request may not declare: a caller must always tell an application's refusal from ours. */
export const RESERVED_REQUEST_CODES: readonly string[] = [
  ...ERROR_CODES,
  // The SDK's own request failures.
  'closed',
  'disconnected',
  'aborted',
  'left',
  'not_connected',
  'bad_frame',
]

/** The runtime facts of each declared request, checked once; throws on a definition that cannot work. */
export function compileRequests(requests: RequestMap | undefined): Map<string, RequestInfo> | undefined {
  if (requests === undefined) return undefined
  const compiled = new Map<string, RequestInfo>()
  for (const [name, definition] of Object.entries(requests)) {
    if (!EVENT_NAME_PATTERN.test(name)) {
      throw new TypeError(
        `defineProtocol: request name "${name}" must be 1 to 64 characters of A-Z a-z 0-9 _ - . :`,
      )
    }
    checkSchema(definition.input, `request "${name}" input`, true)
    checkSchema(definition.output, `request "${name}" output`, false)
    const errors = new Set(definition.errors ?? [])
    for (const code of errors) {
      if (!EVENT_NAME_PATTERN.test(code)) {
        throw new TypeError(
          `defineProtocol: request "${name}" declares error code "${code}", which must be 1 to 64 characters of A-Z a-z 0-9 _ - . :`,
        )
      }
      if (RESERVED_REQUEST_CODES.includes(code)) {
        throw new TypeError(
          `defineProtocol: request "${name}" declares error code "${code}", which roomwire itself uses; choose another code`,
        )
      }
    }
    compiled.set(name, {
      name,
      room: definition.room === true,
      idempotent: definition.idempotent === true,
      errors,
      input: definition.input,
      output: definition.output,
    })
  }
  return compiled
}

type Requests<P> = P extends { readonly requests: infer R } ? R : undefined
type Def<P, K> =
  Requests<P> extends RequestMap ? (K extends keyof Requests<P> ? Requests<P>[K] : never) : never

/** Request names a protocol declares (`string` when it declares none). */
export type RequestName<P> = Requests<P> extends RequestMap ? keyof Requests<P> & string : string

/** Names of the requests a client makes on its own (`client.request`): not declared per room. */
export type ClientRequestName<P> =
  Requests<P> extends RequestMap
    ? {
        [K in keyof Requests<P> & string]: Requests<P>[K] extends { room: true } ? never : K
      }[keyof Requests<P> & string]
    : string

/** Names of the requests made in a joined room (`room.request`): declared with `room: true`. */
export type RoomRequestName<P> =
  Requests<P> extends RequestMap
    ? {
        [K in keyof Requests<P> & string]: Requests<P>[K] extends { room: true } ? K : never
      }[keyof Requests<P> & string]
    : string

/** What a caller passes as the input of request `K`. */
export type RequestInput<P, K> =
  Requests<P> extends RequestMap ? StandardSchemaV1.InferInput<Def<P, K>['input']> : unknown
/** What a caller gets back from request `K`. */
export type RequestOutput<P, K> =
  Requests<P> extends RequestMap ? StandardSchemaV1.InferOutput<Def<P, K>['output']> : unknown
/** What the handler of request `K` receives. */
export type HandlerInput<P, K> =
  Requests<P> extends RequestMap ? StandardSchemaV1.InferOutput<Def<P, K>['input']> : unknown
/** What the handler of request `K` returns. */
export type HandlerOutput<P, K> =
  Requests<P> extends RequestMap ? StandardSchemaV1.InferInput<Def<P, K>['output']> : unknown
/** The codes request `K` declares it may refuse with (`string` when the protocol declares no requests). */
export type RequestErrorCode<P, K> =
  Requests<P> extends RequestMap
    ? Def<P, K> extends { errors: readonly (infer C extends string)[] }
      ? C
      : never
    : string
