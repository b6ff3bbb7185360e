import type * as z from 'zod'
import { checkSchema, checkSchemaMap } from './definition-checks'
import { describeIssue, formatPath } from './format-issue'
import { compileRequests, type RequestInfo, type RequestMap } from './requests'
import type { StandardSchemaV1 } from './standard-schema'

/** A validator for one payload: any Standard Schema (zod, `zod/mini`, valibot, arktype, ...). */
export type Schema = StandardSchemaV1

/** Event names mapped to the schema of their payload. */
export type SchemaMap = Record<string, Schema>

/** What an application declares once and hands to both server and client. */
export interface ProtocolDefinition<
  E extends SchemaMap | undefined = undefined,
  P extends Schema | undefined = undefined,
  D extends SchemaMap | undefined = undefined,
  R extends RequestMap | undefined = undefined,
> {
  /** Room events: `publish` and `message` payloads, by event name. */
  events?: E
  /** Each member's presence state in a room. */
  presence?: P
  /** Direct messages between connections, by event name. */
  direct?: D
  /** Requests a client makes and a server handler answers (`client.request`, `room.request`), by name. */
  requests?: R
}

/** Why a payload was refused: the `invalid_event` error the server sends back. */
export interface ValidationError {
  code: 'invalid_event'
  /** Names the payload field at fault with its issue path, for example `data.text: must be a string`. */
  message: string
}

export type ValidationResult<T = unknown> =
  | { success: true; data: T }
  | { success: false; error: ValidationError }

/**
 * An application protocol: static types for events and presence, and the validators that enforce them at
 * runtime. Create it with {@link defineProtocol}.
 */
export interface Protocol<
  E extends SchemaMap | undefined = SchemaMap | undefined,
  P extends Schema | undefined = Schema | undefined,
  D extends SchemaMap | undefined = SchemaMap | undefined,
  R extends RequestMap | undefined = RequestMap | undefined,
> {
  readonly events: E
  readonly presence: P
  readonly direct: D
  readonly requests: R
  /** Validate a room event's `data`; an undeclared event is refused when `events` was declared. */
  validateEvent(event: string, data: unknown): ValidationResult
  /**
   * Validate a presence `state`; anything passes when `presence` was not declared. `field` is the frame
   * field it came in, named in the refusal: `state` (a `presence` frame, the default) or `presence` (a
   * `join`).
   */
  validatePresence(state: unknown, field?: 'state' | 'presence'): ValidationResult
  /** Validate a direct message's `data`; an undeclared event is refused when `direct` was declared. */
  validateDirect(event: string, data: unknown): ValidationResult
  /** A declared request's runtime facts; undefined when it is not declared (or no requests are). */
  requestInfo(name: string): RequestInfo | undefined
  /** Validate a request's `input`; an undeclared request is refused when `requests` was declared. */
  validateRequestInput(name: string, input: unknown): ValidationResult
  /** Validate a request's `output`; an undeclared request is refused when `requests` was declared. */
  validateRequestOutput(name: string, output: unknown): ValidationResult
}

/** A protocol that declares nothing: any event name, `unknown` payloads, no validation. */
export type UntypedProtocol = Protocol<undefined, undefined, undefined, undefined>

type Names<M> = M extends SchemaMap ? keyof M & string : string
type In<M, K> = M extends SchemaMap
  ? K extends keyof M
    ? StandardSchemaV1.InferInput<M[K]>
    : never
  : unknown
type Out<M, K> = M extends SchemaMap
  ? K extends keyof M
    ? StandardSchemaV1.InferOutput<M[K]>
    : never
  : unknown

/** Room event names a protocol allows (`string` when it declares none). */
export type EventName<P extends Protocol> = Names<P['events']>
/** What a sender passes as the payload of event `K`. */
export type EventInput<P extends Protocol, K extends string> = In<P['events'], K>
/** What a handler receives as the payload of event `K`. */
export type EventData<P extends Protocol, K extends string> = Out<P['events'], K>
/** Direct event names a protocol allows (`string` when it declares none). */
export type DirectName<P extends Protocol> = Names<P['direct']>
/** What a sender passes as the payload of direct event `K`. */
export type DirectInput<P extends Protocol, K extends string> = In<P['direct'], K>
/** What a handler receives as the payload of direct event `K`. */
export type DirectData<P extends Protocol, K extends string> = Out<P['direct'], K>
/** What a member sets as its presence state. */
export type PresenceInput<P extends Protocol> = P['presence'] extends Schema
  ? StandardSchemaV1.InferInput<P['presence']>
  : unknown
/** A member's presence state as others see it. */
export type PresenceState<P extends Protocol> = P['presence'] extends Schema
  ? StandardSchemaV1.InferOutput<P['presence']>
  : unknown

const parseParams = { error: describeIssue }

/** Names a client's `room.on()` uses for room lifecycle, so an application may not declare them as events. */
export const RESERVED_EVENT_NAMES = ['member_joined', 'member_left', 'presence', 'resync'] as const

/**
 * A zod 4 schema (classic or `zod/mini`; zod 3 has no `_zod`): parsed directly rather than through
 * `~standard`, so a refusal is worded by the protocol's error map (`must be a string`, not zod's default).
 */
interface ZodSchema extends Schema {
  safeParse(
    value: unknown,
    params?: { error: typeof describeIssue },
  ): { success: boolean; data?: unknown; error?: z.core.$ZodError }
}

function isZod(schema: Schema): schema is ZodSchema {
  return '_zod' in schema && typeof (schema as Partial<ZodSchema>).safeParse === 'function'
}

function validate(schema: Schema | undefined, value: unknown, field: string): ValidationResult {
  if (schema === undefined) return { success: true, data: value }
  let issue: StandardSchemaV1.Issue | undefined
  if (isZod(schema)) {
    // Per-call params turn off zod's compiled fast path: only a refused payload is parsed again to word it.
    const result = schema.safeParse(value)
    if (result.success) return { success: true, data: result.data }
    issue = (schema.safeParse(value, parseParams).error ?? result.error)?.issues[0]
  } else {
    const result = schema['~standard'].validate(value)
    if (result instanceof Promise) {
      throw new TypeError(`roomwire validates ${field} synchronously, but its schema returned a Promise`)
    }
    if (result.issues === undefined) return { success: true, data: result.value }
    issue = result.issues[0]
  }
  const path = formatPath([field, ...(issue?.path ?? []).map((s) => (typeof s === 'object' ? s.key : s))])
  return {
    success: false,
    error: { code: 'invalid_event', message: `${path}: ${issue?.message ?? 'is invalid'}` },
  }
}

function validateRequest(
  requests: Map<string, RequestInfo> | undefined,
  name: string,
  value: unknown,
  field: 'input' | 'output',
): ValidationResult {
  if (requests === undefined) return { success: true, data: value }
  const info = requests.get(name)
  if (info === undefined) {
    const declared = [...requests.keys()].join(', ') || 'none'
    return {
      success: false,
      error: {
        code: 'invalid_event',
        message: `name: "${name}" is not a declared request (declared: ${declared})`,
      },
    }
  }
  return validate(info[field], value, field)
}

function lookup(
  map: SchemaMap | undefined,
  event: string,
  kind: string,
): Schema | undefined | ValidationError {
  if (map === undefined) return undefined
  // Own keys only: an event named `constructor` or `__proto__` must not find Object.prototype's members.
  if (Object.hasOwn(map, event)) return map[event]
  const declared = Object.keys(map).join(', ') || 'none'
  return {
    code: 'invalid_event',
    message: `event: "${event}" is not a declared ${kind} event (declared: ${declared})`,
  }
}

function validateNamed(
  map: SchemaMap | undefined,
  event: string,
  data: unknown,
  kind: string,
): ValidationResult {
  const schema = lookup(map, event, kind)
  if (schema !== undefined && 'code' in schema) return { success: false, error: schema }
  return validate(schema, data, 'data')
}

/**
 * Declare an application's events and presence state once, as schemas (zod by default; any Standard Schema
 * validator such as `zod/mini`, valibot or arktype works too), and hand the result to both
 * `createRoomServer` and `createClient`. Publishing an undeclared event or a payload of the wrong shape is
 * then a compile error, handlers receive typed data, and the server refuses bad payloads at runtime with
 * `invalid_event`.
 * @example
 * export const chat = defineProtocol({
 *   events: { chat: z.object({ text: z.string().max(2000) }), typing: z.object({ typing: z.boolean() }) },
 *   presence: z.object({ name: z.string() }),
 *   requests: {
 *     createRoom: { input: z.object({ name: z.string() }), output: z.object({ id: z.string() }), errors: ['name_taken'] },
 *   },
 * })
 */
export function defineProtocol<
  const E extends SchemaMap | undefined = undefined,
  const P extends Schema | undefined = undefined,
  const D extends SchemaMap | undefined = undefined,
  const R extends RequestMap | undefined = undefined,
>(definition: ProtocolDefinition<E, P, D, R> = {}): Protocol<E, P, D, R> {
  const { events, presence, direct, requests } = definition
  for (const name of RESERVED_EVENT_NAMES) {
    if (events !== undefined && Object.hasOwn(events, name)) {
      throw new TypeError(
        `defineProtocol: "${name}" is reserved for room lifecycle events (${RESERVED_EVENT_NAMES.join(', ')}); choose another event name`,
      )
    }
  }
  checkSchemaMap(events, 'event')
  checkSchemaMap(direct, 'direct event')
  checkSchema(presence, 'presence', true)
  const compiled = compileRequests(requests)
  return {
    events: events as E,
    presence: presence as P,
    direct: direct as D,
    requests: requests as R,
    validateEvent: (event, data) => validateNamed(events, event, data, 'room'),
    validatePresence: (state, field = 'state') => validate(presence, state, field),
    validateDirect: (event, data) => validateNamed(direct, event, data, 'direct'),
    requestInfo: (name) => compiled?.get(name),
    validateRequestInput: (name, input) => validateRequest(compiled, name, input, 'input'),
    validateRequestOutput: (name, output) => validateRequest(compiled, name, output, 'output'),
  }
}
