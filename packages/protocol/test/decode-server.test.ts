import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { decodeWithSchema } from '../src/codec'
import { decodeServerMessage, RefSchema, ServerMessageSchema } from '../src/index'

/*
 * The hand-written server decoder against the zod schemas, which are the contract: on frames generated from
 * the schemas' JSON Schema, and on those frames with one field mutated, both must accept the same frames
 * with the same output, and refuse the same frames with the same error.
 */

/** The zod path the decoder replaced: the same frame checks, then ServerMessageSchema. */
const decodeWithZod = (raw: string) => decodeWithSchema(ServerMessageSchema, raw, undefined, 3)

type JsonSchema = {
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

const SAFE = Number.MAX_SAFE_INTEGER

/** Values that conform to `schema`, built from its JSON Schema (enough of it for the wire schemas). */
function conforming(schema: JsonSchema): fc.Arbitrary<unknown> {
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

const jsonSchema = z.toJSONSchema(ServerMessageSchema, {
  io: 'input',
  unrepresentable: 'any',
  override: (ctx) => {
    // `ref` is a z.custom check, which JSON Schema cannot carry: describe what it accepts.
    if (ctx.zodSchema === RefSchema) {
      Object.assign(ctx.jsonSchema, {
        anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'integer' }],
      })
    }
  },
}) as JsonSchema

const frames = conforming(jsonSchema) as fc.Arbitrary<Record<string, unknown>>

/** Written as `1e400` in the frame's text: JSON.parse reads it as Infinity, which JSON.stringify cannot write. */
const INFINITY = '__infinity__'

/** Values a field might wrongly hold: every JSON type, and the edges of each rule. */
const oddValue = fc.oneof(
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
    'internal',
    'forbidden',
    'welcome',
    'message',
    'nope',
    '__proto__',
  ),
)

type Container = Record<string, unknown> | unknown[]

/** Every object and array in `value` with the keys it holds, the value itself first. */
function containers(
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
const mutated = fc
  .tuple(
    frames,
    fc.nat(),
    fc.constantFrom('delete', 'replace', 'add'),
    oddValue,
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

const text = (frame: unknown) => JSON.stringify(frame).replaceAll(`"${INFINITY}"`, '1e400')

/**
 * A value as plain data, for comparing: objects as their sorted own keys with their prototype named, `-0`
 * told from `0`. (toStrictEqual compares `.constructor`, which a frame may hold as an own key.)
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return ['array', value.map(canonical)]
  if (value !== null && typeof value === 'object') {
    const plain = Object.getPrototypeOf(value) === Object.prototype
    const keys = Object.getOwnPropertyNames(value).sort()
    return ['object', plain, keys.map((k) => [k, canonical((value as Record<string, unknown>)[k])])]
  }
  return Object.is(value, -0) ? '-0' : value
}

function expectSame(raw: string): boolean {
  const hand = decodeServerMessage(raw)
  expect(canonical(hand)).toEqual(canonical(decodeWithZod(raw)))
  return hand.success
}

const expectSameVerdict = (frame: unknown): boolean => expectSame(text(frame))

describe('the hand-written server decoder and ServerMessageSchema', () => {
  it('accept every frame generated from the schemas, with the same output', () => {
    let accepted = 0
    fc.assert(
      fc.property(frames, (frame) => {
        if (expectSameVerdict(frame)) accepted++
      }),
      { numRuns: 2000 },
    )
    // The generator must mostly make valid frames, or the property says little about acceptance.
    expect(accepted).toBeGreaterThan(1800)
  }, 30_000)

  it('accept and refuse the same frames with one field mutated, with the same error', () => {
    let refused = 0
    fc.assert(
      fc.property(mutated, (frame) => {
        if (!expectSameVerdict(frame)) refused++
      }),
      { numRuns: 6000 },
    )
    expect(refused).toBeGreaterThan(1500)
  }, 30_000)

  it('refuse the same non-frames (not JSON, not an object, no or unknown type)', () => {
    for (const raw of [
      '',
      'nope',
      '[]',
      'null',
      '5',
      '"x"',
      '{}',
      '{"type":5}',
      '{"type":"nope","room":"r"}',
    ]) {
      expectSame(raw)
    }
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), (raw) => {
        expectSame(raw)
      }),
      { numRuns: 1000 },
    )
  })

  it('words a refusal as the zod schemas do, naming the field', () => {
    expect(decodeServerMessage('{"type":"ack","ref":1,"seq":0}')).toStrictEqual({
      success: false,
      error: { code: 'bad_request', message: 'seq: Too small: expected number to be >0', ref: 1 },
    })
    expect(
      decodeServerMessage(
        '{"type":"joined","room":"a","seq":1,"epoch":"e","members":[{"id":"x"},{"id":""}]}',
      ),
    ).toStrictEqual({
      success: false,
      error: {
        code: 'bad_request',
        message: 'members[1].id: must be a connection id of 1 to 64 characters',
        room: 'a',
      },
    })
  })
})
