import fc from 'fast-check'
import * as z from 'zod'
import { RefSchema } from '../src/index'

/*
 * Frames generated from a zod schema's JSON Schema, and those frames with one field mutated: what the
 * hand-written decoders (decode-server.ts, decode-client-fast.ts) are checked against their schemas on.
 */

export type JsonSchema = {
  const?: unknown
  enum?: unknown[]
  oneOf?: JsonSchema[]
  anyOf?: JsonSchema[]
  type?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  exclusiveMinimum?: number
  maximum?: number
  items?: JsonSchema
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: JsonSchema | false
}

export const SAFE = Number.MAX_SAFE_INTEGER

/** Values that conform to `schema`, built from its JSON Schema (enough of it for the wire schemas). */
export function conforming(schema: JsonSchema): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const options = schema.oneOf ?? schema.anyOf
  if (options) return fc.oneof(...options.map(conforming))
  switch (schema.type) {
    case 'string':
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern))
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 12 })
    case 'integer': {
      const min =
        schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -SAFE)
      return fc.oneof(
        fc.constant(Math.max(min, -SAFE)),
        fc.integer({ min: Math.max(min, -1000), max: 1000 }),
        fc.maxSafeInteger().filter((n) => n >= min),
      )
    }
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        ...(schema.exclusiveMinimum !== undefined && { min: schema.exclusiveMinimum, minExcluded: true }),
      })
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(conforming(schema.items ?? {}), { maxLength: 3 })
    case 'object': {
      const shape = Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, value]) => [key, conforming(value)]),
      )
      const known = fc.record(shape, { requiredKeys: schema.required ?? [] })
      if (schema.additionalProperties === undefined || schema.additionalProperties === false) return known
      // A loose object (`limits`): keys from a newer server ride along.
      return fc
        .tuple(
          known,
          fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
        )
        .map(([fields, extra]) => ({ ...extra, ...fields }))
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Written as `1e400` in the frame's text: JSON.parse reads it as Infinity, which JSON.stringify cannot write. */
export const INFINITY = '__infinity__'

/** Values a field might wrongly hold: every JSON type, the edges of each rule, and `words` of the grammar. */
export const oddValue = (words: readonly string[]) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 1 }),
    fc.constantFrom<unknown>(
      INFINITY,
      '',
      'x'.repeat(64),
      'x'.repeat(65),
      'r'.repeat(128),
      'r'.repeat(129),
      'a b',
      'général',
      0,
      -0,
      -1,
      1,
      1.5,
      SAFE,
      SAFE + 2,
      -SAFE - 2,
      1e21,
      -1e21,
      true,
      false,
      null,
      [],
      {},
      [{}],
      [{ id: '' }],
      { id: 'c_1', user: 5 },
      'nope',
      '__proto__',
      ...words,
    ),
  )

export type Container = Record<string, unknown> | unknown[]

/** Every object and array in `value` with the keys it holds, the value itself first. */
export function containers(
  value: unknown,
  into: [Container, string | number][] = [],
): [Container, string | number][] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      into.push([value, i])
      containers(item, into)
    })
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.push([value as Record<string, unknown>, key])
      containers(item, into)
    }
  }
  return into
}

/** A frame with one field deleted, replaced, or joined by an unknown key (also `__proto__` and Object.prototype's names). */
export const mutated = (frames: fc.Arbitrary<Record<string, unknown>>, values: fc.Arbitrary<unknown>) =>
  fc
    .tuple(
      frames,
      fc.nat(),
      fc.constantFrom('delete', 'replace', 'add'),
      values,
      fc.constantFrom('zz', '__proto__', 'type', 'valueOf', 'constructor', 'toString'),
    )
    .map(([frame, pick, how, value, newKey]) => {
      const copy = structuredClone(frame)
      const slots = containers(copy)
      const [container, key] = slots[pick % slots.length] ?? [copy, 'type']
      if (how === 'delete' && !Array.isArray(container)) delete container[key as string]
      else if (how === 'add' && !Array.isArray(container)) {
        Object.defineProperty(container, newKey, {
          value,
          enumerable: true,
          configurable: true,
          writable: true,
        })
      } else (container as Record<string | number, unknown>)[key] = value
      return copy
    })

export const text = (frame: unknown) => JSON.stringify(frame).replaceAll(`"${INFINITY}"`, '1e400')

/**
 * A value as plain data, for comparing: objects as their sorted own keys with their prototype named, `-0`
 * told from `0`. (toStrictEqual compares `.constructor`, which a frame may hold as an own key.)
 */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return ['array', value.map(canonical)]
  if (value !== null && typeof value === 'object') {
    const plain = Object.getPrototypeOf(value) === Object.prototype
    const keys = Object.getOwnPropertyNames(value).sort()
    return ['object', plain, keys.map((k) => [k, canonical((value as Record<string, unknown>)[k])])]
  }
  return Object.is(value, -0) ? '-0' : value
}

/** A wire schema as JSON Schema, with `ref` (a z.custom check JSON Schema cannot carry) described. */
export function wireJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === RefSchema) {
        Object.assign(ctx.jsonSchema, {
          anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'integer' }],
        })
      }
    },
  }) as JsonSchema
}
