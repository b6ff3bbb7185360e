import fc from 'fast-check'
import * as z from 'zod'
import { hostileKey, oddUnicode } from './arbitraries'

/** The part of JSON Schema that `z.toJSONSchema` emits for the protocol's schemas. */
export interface JsonSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array'
  const?: unknown
  enum?: unknown[]
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  oneOf?: JsonSchema[]
  anyOf?: JsonSchema[]
  additionalProperties?: JsonSchema | boolean
  default?: unknown
}

/** One message type of a protocol union: its `type`, its schema and its fields. */
export interface MessageGrammar {
  type: string
  schema: JsonSchema
  /** Every field, required ones first. */
  fields: string[]
  required: Set<string>
}

/**
 * The message types of a discriminated union, read from its JSON Schema (`z.toJSONSchema`), so that the
 * fuzzers cover every type and every field the protocol defines, and follow it when it changes. Fields the
 * JSON Schema cannot express (`ref`, a `z.custom`; payloads, `z.unknown`) come out as `{}`: the
 * generators below give them their protocol meaning by name.
 */
export function grammarOf(schema: z.ZodType): MessageGrammar[] {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonSchema
  const variants = json.oneOf ?? json.anyOf ?? []
  return variants.map((variant) => {
    const type = variant.properties?.type?.const
    if (typeof type !== 'string') throw new Error('a union member without a constant type')
    const required = new Set(variant.required ?? [])
    const fields = Object.keys(variant.properties ?? {}).sort(
      (a, b) => Number(required.has(b)) - Number(required.has(a)),
    )
    return { type, schema: variant, fields, required }
  })
}

/** Fields whose schema is `{}` and what they mean in PROTOCOL.md. */
const PAYLOAD_FIELDS = new Set(['data', 'state', 'presence', 'input'])

/** JSON a hostile peer might put in a payload: every JSON type, prototype keys, odd strings. */
export function payload(maxDepth: number): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown; leaf: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      tie('leaf'),
      fc.array(tie('value'), { maxLength: 3 }),
      fc
        .array(fc.tuple(fc.oneof(hostileKey, fc.string({ maxLength: 6 })), tie('value')), { maxLength: 3 })
        .map((entries) => {
          // JSON.parse semantics: `__proto__` becomes an own key, as a peer's frame would make it.
          const object: Record<string, unknown> = {}
          for (const [key, value] of entries) {
            Object.defineProperty(object, key, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            })
          }
          return object
        }),
    ),
    leaf: fc.oneof(
      fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', '__proto__', 'constructor'),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: 12 }),
      oddUnicode,
    ),
  })).value
}

const safeInt = fc.oneof(
  fc.constantFrom(0, 1, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
  fc.integer(),
)

/** A valid `ref`: a string of 1 to 64 characters or a safe integer. */
export const validRef = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), safeInt)

/** Names a fuzzer prefers, so generated frames meet the witnesses' room and the prototype names. */
export interface Preferences {
  room?: string[]
  event?: string[]
  /** Request names. */
  name?: string[]
}

/** Valid values of one field's schema. */
export function validValue(
  field: string,
  schema: JsonSchema,
  prefer: Preferences = {},
): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum)
  const preferred =
    field === 'room'
      ? prefer.room
      : field === 'event'
        ? prefer.event
        : field === 'name'
          ? prefer.name
          : undefined
  switch (schema.type) {
    case 'string': {
      let base: fc.Arbitrary<string>
      if (schema.pattern !== undefined) base = fc.stringMatching(new RegExp(schema.pattern))
      else {
        base = fc.string({
          minLength: schema.minLength ?? 0,
          ...(schema.maxLength === undefined
            ? { maxLength: 24 }
            : { maxLength: Math.min(schema.maxLength, 64) }),
        })
      }
      const names = ['__proto__', 'constructor', 'prototype', ...(preferred ?? [])]
      return fc.oneof({ arbitrary: base, weight: 2 }, { arbitrary: fc.constantFrom(...names), weight: 1 })
    }
    case 'integer': {
      const min =
        schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -1e6)
      const max = schema.maximum ?? Number.MAX_SAFE_INTEGER
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 1000) }), fc.constantFrom(min, max))
    }
    case 'number': {
      if (schema.exclusiveMinimum !== undefined)
        return fc.double({ min: Number.MIN_VALUE, max: 1e9, noNaN: true })
      return fc.double({ noNaN: true, noDefaultInfinity: true })
    }
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(validValue('', schema.items ?? {}, prefer), { maxLength: 3 })
    case 'object':
      return objectOf(schema, prefer)
    default:
      if (field === 'ref') return validRef
      if (PAYLOAD_FIELDS.has(field)) return payload(4)
      return payload(3)
  }
}

function objectOf(schema: JsonSchema, prefer: Preferences): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? [])
  const entries = Object.entries(schema.properties ?? {})
  return fc
    .tuple(
      ...entries.map(([name, field]) =>
        required.has(name)
          ? validValue(name, field, prefer).map((value) => [name, value] as const)
          : fc.option(
              validValue(name, field, prefer).map((value) => [name, value] as const),
              { freq: 2 },
            ),
      ),
    )
    .map((pairs) => {
      const object: Record<string, unknown> = {}
      for (const pair of pairs) if (pair !== null) object[pair[0]] = pair[1]
      return object
    })
}

/** A valid message of one type (every required field, some optional ones). */
export function validMessage(
  grammar: MessageGrammar,
  prefer: Preferences = {},
): fc.Arbitrary<Record<string, unknown>> {
  return objectOf(grammar.schema, prefer)
}

/** The JSON type a field's schema wants, or 'any' when it takes every JSON value. */
export function expectedType(schema: JsonSchema | undefined): JsonSchema['type'] | 'any' {
  if (schema === undefined) return 'any'
  if (schema.const !== undefined) return typeof schema.const === 'number' ? 'number' : 'string'
  return schema.type ?? 'any'
}
