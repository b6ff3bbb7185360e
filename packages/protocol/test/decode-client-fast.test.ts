import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeWithSchema } from '../src/codec'
import { decodeHotClientFrame } from '../src/decode-client-fast'
import {
  ClientMessageSchema,
  decodeClientMessage,
  PresenceMessageSchema,
  PublishMessageSchema,
  RequestMessageSchema,
} from '../src/index'
import { canonical, conforming, mutated, oddValue, text, wireJsonSchema } from './schema-frames'

/*
 * The hand-checked hot client frames (decode-client-fast.ts) against ClientMessageSchema, which is the
 * contract: on frames generated from the schemas' JSON Schema and on those frames with one field mutated
 * (wrong types, missing, unknown and prototype keys, edges of every rule), decodeClientMessage gives what
 * the zod path alone gives (same output, same error), and the fast path accepts every valid hot frame
 * itself rather than leaving it to zod.
 */

/** The zod path alone: the same frame checks, then ClientMessageSchema. */
const decodeWithZod = (raw: string) => decodeWithSchema(ClientMessageSchema, raw, undefined, 1)

const HOT = new Set(['publish', 'request', 'presence'])

const asFrames = (schema: Parameters<typeof wireJsonSchema>[0]) =>
  conforming(wireJsonSchema(schema)) as fc.Arbitrary<Record<string, unknown>>

/** Mostly the hot frames, and every other client frame now and then. */
const frames = fc.oneof(
  { arbitrary: asFrames(PublishMessageSchema), weight: 3 },
  { arbitrary: asFrames(RequestMessageSchema), weight: 3 },
  { arbitrary: asFrames(PresenceMessageSchema), weight: 2 },
  { arbitrary: asFrames(ClientMessageSchema), weight: 1 },
)

/** `levels` arrays nested in one another: the payload bound is 32. */
const nested = (levels: number): unknown => (levels === 0 ? 0 : [nested(levels - 1)])

const values = fc.oneof(
  {
    arbitrary: oddValue(['publish', 'request', 'presence', 'join', 'ping', '😀', 'é'.repeat(64)]),
    weight: 8,
  },
  {
    arbitrary: fc.constantFrom<unknown>(
      '😀'.repeat(32), // 64 UTF-16 units: an id's limit counts units, as zod's max does
      '😀'.repeat(33),
      '\ud800',
      'room\u0000',
      -1e21,
      Number.MIN_VALUE,
      nested(31),
      nested(32),
      nested(33),
      { __proto__: 1 },
      { constructor: { prototype: 1 } },
    ),
    weight: 2,
  },
)

/** Both decoders on one frame's text: the same result, and a valid hot frame taken by the fast path. */
function expectSame(raw: string): boolean {
  const fast = decodeClientMessage(raw)
  const zod = decodeWithZod(raw)
  expect(canonical(fast)).toEqual(canonical(zod))
  if (fast.success && zod.success) {
    // Fields in the schema's order too, so the frame re-encodes to the same bytes.
    expect(Object.keys(fast.data)).toEqual(Object.keys(zod.data))
    // Left to zod on purpose: an id longer than 64 UTF-16 units (zod counts code points).
    const longId =
      typeof (zod.data as { id?: unknown }).id === 'string' && (zod.data as { id: string }).id.length > 64
    if (HOT.has(zod.data.type) && !longId) expect(decodeHotClientFrame(JSON.parse(raw))).toBeDefined()
  }
  return zod.success
}

describe('the hot client frames checked by hand and ClientMessageSchema', () => {
  it('accept every frame generated from the schemas, with the same output', () => {
    let accepted = 0
    fc.assert(
      fc.property(frames, (frame) => {
        if (expectSame(text(frame))) accepted++
      }),
      { numRuns: 3000 },
    )
    // Join's since/epoch rule is not in its JSON Schema, so a few generated joins are refused.
    expect(accepted).toBeGreaterThan(2700)
  }, 60_000)

  it('accept and refuse the same frames with one field mutated, with the same output or error', () => {
    let refused = 0
    fc.assert(
      fc.property(mutated(frames, values), (frame) => {
        if (!expectSame(text(frame))) refused++
      }),
      { numRuns: 8000 },
    )
    expect(refused).toBeGreaterThan(2000)
  }, 60_000)

  it('agree on hand-written edge frames', () => {
    for (const raw of [
      '{"type":"publish","room":"r","event":"e","data":null}',
      '{"type":"publish","room":"r","event":"e"}',
      '{"type":"publish","room":"r","event":"e","data":1,"echo":1}',
      '{"type":"publish","room":"r","event":"e","data":1,"ref":1e400}',
      '{"type":"publish","room":"r","event":"e","data":1,"ref":9007199254740992}',
      '{"type":"publish","room":"r","event":"e","data":1,"ref":""}',
      '{"type":"publish","room":"r","event":"e","data":1,"id":"","ref":"q"}',
      '{"type":"publish","room":"r","event":"e","data":1,"__proto__":{"echo":true}}',
      '{"__proto__":{"room":"r"},"type":"publish","event":"e","data":1}',
      '{"type":"request","name":"n","id":"i"}',
      '{"type":"request","name":"n","id":"i","ref":1,"input":null,"room":"r"}',
      '{"type":"request","name":"n","id":"i","ref":1.5}',
      '{"type":"request","name":"a b","id":"i","ref":1}',
      '{"type":"request","name":"n","id":"i","ref":1,"room":""}',
      '{"type":"presence","room":"r"}',
      '{"type":"presence","room":"r","state":{},"ref":-9007199254740991}',
      '{"type":"presence","room":"r","state":{},"extra":[1]}',
      '{"type":"Publish","room":"r","event":"e","data":1}',
    ]) {
      expectSame(raw)
    }
  })
})
