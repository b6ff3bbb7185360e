import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeWithSchema } from '../src/codec'
import { decodeServerMessage, ServerMessageSchema } from '../src/index'
import { canonical, conforming, mutated, oddValue, text, wireJsonSchema } from './schema-frames'

/*
 * The hand-written server decoder against the zod schemas, which are the contract: on frames generated from
 * the schemas' JSON Schema, and on those frames with one field mutated, both must accept the same frames
 * with the same output, and refuse the same frames with the same error.
 */

/** The zod path the decoder replaced: the same frame checks, then ServerMessageSchema. */
const decodeWithZod = (raw: string) => decodeWithSchema(ServerMessageSchema, raw, undefined, 3)

const frames = conforming(wireJsonSchema(ServerMessageSchema)) as fc.Arbitrary<Record<string, unknown>>
const mutatedFrames = mutated(frames, oddValue(['internal', 'forbidden', 'welcome', 'message']))

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
      fc.property(mutatedFrames, (frame) => {
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

  it('agree on the counts-mode frames: joined.count, member_count and members_page (issue 20)', () => {
    for (const raw of [
      '{"type":"joined","room":"a","seq":1,"epoch":"e","members":[{"id":"x"}],"count":5000}',
      '{"type":"joined","room":"a","seq":1,"epoch":"e","members":[{"id":"x"}],"count":-1}',
      '{"type":"member_count","room":"a","count":4999}',
      '{"type":"member_count","room":"a","count":1.5}',
      '{"type":"member_count","room":"a"}',
      '{"type":"members_page","room":"a","ref":3,"members":[{"id":"x","user":"u"}],"count":2,"more":true}',
      '{"type":"members_page","room":"a","members":[],"count":0,"more":false}',
      '{"type":"members_page","room":"a","ref":3,"members":[{"id":""}],"count":0,"more":false}',
    ]) {
      expectSame(raw)
    }
    expect(decodeServerMessage('{"type":"member_count","room":"a","count":7}')).toStrictEqual({
      success: true,
      data: { type: 'member_count', room: 'a', count: 7 },
    })
  })
})
