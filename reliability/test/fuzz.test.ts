import type { AddressInfo } from 'node:net'
import { createClient, type RoomMessage } from '@roomwire/client'
import { decodeClientMessage, defineProtocol, type ServerMessage } from '@roomwire/protocol'
import { createRoomServer } from '@roomwire/server'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import { type Frame, frame, oddUnicode } from './support/arbitraries'
import { fuzzSeconds, report } from './support/budget'
import { connectJson, type JsonClient } from './support/json-client'

const MAX_MESSAGE_BYTES = 65_536
const budgetMs = fuzzSeconds() * 1000

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().max(2000) }), e: z.unknown() },
  presence: z.unknown(),
})

const unhandled: unknown[] = []
const onUnhandled = (err: unknown) => unhandled.push(err)
const prototypeKeys = {
  object: Object.getOwnPropertyNames(Object.prototype).sort(),
  array: Object.getOwnPropertyNames(Array.prototype).sort(),
  function: Object.getOwnPropertyNames(Function.prototype).sort(),
  string: Object.getOwnPropertyNames(String.prototype).sort(),
}

function currentPrototypeKeys() {
  return {
    object: Object.getOwnPropertyNames(Object.prototype).sort(),
    array: Object.getOwnPropertyNames(Array.prototype).sort(),
    function: Object.getOwnPropertyNames(Function.prototype).sort(),
    string: Object.getOwnPropertyNames(String.prototype).sort(),
  }
}

const server = createRoomServer({
  port: 0,
  host: '127.0.0.1',
  protocol: chat,
  // The fuzzer sends far more than 100 messages a second; rate limits have their own test.
  rateLimitPerSec: 0,
  maxMessageBytes: MAX_MESSAGE_BYTES,
})
let url = ''
const stats = { frames: 0, badRequest: 0, accepted: 0, binary: 0, closes1009: 0, closes1007: 0, runs: 0 }

// The bystanders: an SDK client that receives everything room "r" gets (hostile presence states included)
// and a raw publisher that keeps publishing into "r" for the whole run.
const bystanderErrors: unknown[] = []
const bystanderSeen: RoomMessage<typeof chat>[] = []
let publisher: JsonClient
let published = 0
let publishing: ReturnType<typeof setInterval> | undefined
const bystander = () =>
  createClient({
    url,
    protocol: chat,
    reconnect: { initialMs: 50, maxMs: 200 },
    logger: { error: (_message, error) => bystanderErrors.push(error) },
  })
let sdk: ReturnType<typeof bystander>

beforeAll(async () => {
  process.on('uncaughtException', onUnhandled)
  process.on('unhandledRejection', onUnhandled)
  await server.ready
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
  sdk = bystander()
  sdk.on('error', (error) => bystanderErrors.push(error))
  const room = sdk.join('r', { presence: { name: 'bystander' } })
  room.onMessage((m) => bystanderSeen.push(m))
  await room.ready
  publisher = await connectJson(url, { join: 'r' })
  publishing = setInterval(() => {
    publisher.send({ type: 'publish', room: 'r', event: 'chat', data: { text: `tick ${published++}` } })
  }, 20)
})

afterAll(async () => {
  clearInterval(publishing)
  sdk?.close()
  await publisher?.close()
  await server.close({ timeoutMs: 1000 })
  process.off('uncaughtException', onUnhandled)
  process.off('unhandledRejection', onUnhandled)
})

/**
 * The replies to each frame: every frame is followed by a ping barrier, and the next frame waits for its
 * pong. Frames are not pipelined because a decode error is answered at once while a valid message waits
 * for the connection's queue: the error of a later bad frame may overtake the reply to an earlier message
 * (PROTOCOL.md does not order replies; refs correlate them).
 */
async function exchange(attacker: JsonClient, frames: Frame[]): Promise<ServerMessage[][]> {
  const replies: ServerMessage[][] = []
  for (const [i, f] of frames.entries()) {
    if (f.kind === 'text' && Buffer.byteLength(f.text) > MAX_MESSAGE_BYTES) {
      // Over the limit: the connection is closed with 1009, so this frame ends the batch.
      attacker.sendRaw(f.text)
      expect((await attacker.closed).code).toBe(1009)
      stats.closes1009++
      break
    }
    const start = attacker.messages.length
    const barrier = `\u0000barrier-${i}`
    if (f.kind === 'binary') attacker.sendRaw(Buffer.from(f.bytes), true)
    else attacker.sendRaw(f.text)
    attacker.send({ type: 'ping', ref: barrier })
    await attacker.waitFor((m) => m.type === 'pong' && m.ref === barrier, 10_000, start)
    const end = attacker.messages.findIndex((m, j) => j >= start && m.type === 'pong' && m.ref === barrier)
    replies.push(attacker.messages.slice(start, end))
  }
  return replies
}

/** Broadcasts a member receives because of others' actions, not replies to its own frames. */
const ambient = new Set(['message', 'member_joined', 'member_left', 'presence', 'direct'])

function checkReplies(f: Frame, replies: ServerMessage[]): void {
  stats.frames++
  const own = replies.filter((m) => !ambient.has(m.type))
  if (f.kind === 'binary') {
    stats.binary++
    expect(own).toEqual([expect.objectContaining({ type: 'error', code: 'bad_request' })])
    return
  }
  const bytes = Buffer.from(f.text)
  const expected = decodeClientMessage(bytes, { maxBytes: MAX_MESSAGE_BYTES })
  const errors = own.filter((m) => m.type === 'error')
  expect(errors.filter((m) => m.code === 'internal')).toEqual([])
  if (!expected.success) {
    stats.badRequest++
    // Exactly one error with the specified code (and the message's ref when it had a valid one).
    expect(own).toHaveLength(1)
    expect(own[0]).toMatchObject({ type: 'error', code: expected.error.code })
    // Compared as JSON: a ref of -0 goes over the wire as 0.
    expect(JSON.stringify((own[0] as { ref?: unknown }).ref)).toBe(JSON.stringify(expected.error.ref))
    return
  }
  stats.accepted++
  expect(errors.filter((m) => m.code === 'bad_request')).toEqual([])
  const ref = expected.data.ref
  if (ref !== undefined) {
    // PROTOCOL.md: exactly one reply carrying the ref.
    expect(own.filter((m) => 'ref' in m && m.ref === ref)).toHaveLength(1)
  }
}

describe('fuzzing a live server', () => {
  it('answers random and mutated frames as specified, keeps the connection, and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 12 }), async (frames) => {
        stats.runs++
        const attacker = await connectJson(url)
        try {
          const replies = await exchange(attacker, frames)
          for (const [i, reply] of replies.entries()) checkReplies(frames[i]!, reply)
          if (replies.length === frames.length) expect(attacker.ws.readyState).toBe(1)
        } finally {
          await attacker.close()
        }
      }),
      {
        numRuns: Number.MAX_SAFE_INTEGER,
        interruptAfterTimeLimit: budgetMs * 0.6,
        markInterruptAsFailure: false,
      },
    )
    expect(stats.frames).toBeGreaterThan(100)
    expect(unhandled).toEqual([])
  })

  it('closes a frame over the size limit with 1009 and a frame of invalid UTF-8 with 1007', async () => {
    const oversized = fc.record({
      kind: fc.constant('oversized' as const),
      extra: fc.integer({ min: 1, max: 200_000 }),
      fill: fc.constantFrom('x', 'é', '💥'),
    })
    const invalidUtf8 = fc.record({
      kind: fc.constant('utf8' as const),
      prefix: fc.constantFrom('{"type":"publish","room":"r","event":"e","data":"', '{"type":"', ''),
      // Lone continuation bytes, truncated sequences, overlongs, surrogates encoded in UTF-8, > U+10FFFF.
      bad: fc.constantFrom(
        [0x80],
        [0xc0, 0xaf],
        [0xe0, 0x80, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xff],
        [0xe2, 0x82],
      ),
    })
    await fc.assert(
      fc.asyncProperty(fc.oneof(oversized, invalidUtf8), async (input) => {
        const attacker = await connectJson(url)
        if (input.kind === 'oversized') {
          const unit = Buffer.byteLength(input.fill)
          const text = input.fill.repeat(Math.ceil((MAX_MESSAGE_BYTES + input.extra) / unit))
          attacker.sendRaw(text)
          expect((await attacker.closed).code).toBe(1009)
          stats.closes1009++
        } else {
          attacker.sendRaw(
            Buffer.concat([Buffer.from(input.prefix), Buffer.from(input.bad), Buffer.from('"}')]),
            false,
          )
          expect((await attacker.closed).code).toBe(1007)
          stats.closes1007++
        }
      }),
      {
        numRuns: Number.MAX_SAFE_INTEGER,
        interruptAfterTimeLimit: budgetMs * 0.2,
        markInterruptAsFailure: false,
      },
    )
    expect(stats.closes1009).toBeGreaterThan(0)
    expect(stats.closes1007).toBeGreaterThan(0)
    expect(unhandled).toEqual([])
  })

  it('refuses odd unicode in room and event names with bad_request', async () => {
    const attacker = await connectJson(url)
    try {
      await fc.assert(
        fc.asyncProperty(oddUnicode, fc.constantFrom('join', 'publish'), async (name, type) => {
          const ref = `odd-${stats.runs++}`
          const message =
            type === 'join' ? { type, room: name, ref } : { type, room: 'r', event: name, data: 1, ref }
          attacker.send(message)
          const reply = await attacker.waitFor((m) => 'ref' in m && m.ref === ref)
          if (decodeClientMessage(JSON.stringify(message)).success) {
            // A valid name: refused for other reasons at most (not a member, not in the app's protocol).
            expect(reply).not.toMatchObject({ code: 'bad_request' })
          } else {
            expect(reply).toMatchObject({ type: 'error', code: 'bad_request' })
          }
        }),
        {
          numRuns: Number.MAX_SAFE_INTEGER,
          interruptAfterTimeLimit: budgetMs * 0.1,
          markInterruptAsFailure: false,
        },
      )
    } finally {
      await attacker.close()
    }
  })

  it('kept delivering to the room throughout, in seq order, and touched no prototype', async () => {
    clearInterval(publishing)
    const marker = `final ${published}`
    publisher.send({ type: 'publish', room: 'r', event: 'chat', data: { text: marker } })
    await vi.waitFor(
      () =>
        expect(bystanderSeen.some((m) => (m.data as { text?: string } | undefined)?.text === marker)).toBe(
          true,
        ),
      { timeout: 10_000 },
    )
    const seqs = bystanderSeen.map((m) => m.seq)
    // Every message of the room, fuzzers' publishes included, once and in order.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    const ticks = bystanderSeen
      .filter((m) => m.from === publisher.id)
      .map((m) => (m.data as { text: string }).text)
    expect(ticks).toEqual([...Array.from({ length: published }, (_, i) => `tick ${i}`), marker])
    expect(bystanderErrors).toEqual([])
    expect(sdk.status).toBe('open')
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined()
    expect(currentPrototypeKeys()).toEqual(prototypeKeys)
    expect(unhandled).toEqual([])
    report('fuzz', {
      budgetSeconds: budgetMs / 1000,
      ...stats,
      roomMessages: seqs.length,
      publisherTicks: published,
    })
  })
})
