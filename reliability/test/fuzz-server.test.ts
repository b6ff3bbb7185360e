import { type Client, createClient, type RoomMessage } from '@roomwire/client'
import {
  ClientMessageSchema,
  decodeClientMessage,
  defineProtocol,
  nestsDeeperThan,
  type ServerMessage,
} from '@roomwire/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as z from 'zod'
import { fuzzSeconds, report, seedFrom, stopStartingAfter } from './support/budget'
import { type ChildServer, startChildServer } from './support/child-server'
import { grammarOf, validMessage } from './support/grammar'
import { connectJson, type JsonClient } from './support/json-client'
import {
  type FuzzFrame,
  grammarFrames,
  MAX_FRAME_BYTES,
  NESTING_LIMIT,
  nestingSweep,
} from './support/mutations'

/**
 * Grammar-wide fuzzing of the server (issue 12, "Tests that keep it fixed"): frames generated from
 * ClientMessageSchema (every message type, every field), valid and mutated, sent to a server process
 * while two SDK witnesses chat in room "r". Budget: ROOMWIRE_FUZZ_SECONDS (default 45, shared with
 * fuzz-client.test.ts: 60 % here).
 */
const budgetMs = fuzzSeconds(45) * 1000 * 0.6

// The same application protocol as the server process (fixtures/server-process.ts, `chatProtocol`).
const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().max(2000) }), e: z.unknown() },
  presence: z.unknown(),
})
const grammar = grammarOf(ClientMessageSchema)
const prefer = { room: ['r', 'fuzz'], event: ['chat', 'e'], name: ['echo', 'refuse'] }

const unhandled: unknown[] = []
const onUnhandled = (err: unknown) => unhandled.push(err)
const prototypeKeys = () => ({
  object: Object.getOwnPropertyNames(Object.prototype).sort(),
  array: Object.getOwnPropertyNames(Array.prototype).sort(),
  function: Object.getOwnPropertyNames(Function.prototype).sort(),
  string: Object.getOwnPropertyNames(String.prototype).sort(),
})
const prototypesBefore = prototypeKeys()

let server: ChildServer
const stats = {
  frames: 0,
  refused: 0,
  accepted: 0,
  mustRefuse: 0,
  binary: 0,
  closes1009: 0,
  closes1007: 0,
  runs: 0,
  deepestRefused: 0,
}
/** Message type and field pairs that got a frame nesting past the limit, refused. */
const nestedFields = new Set<string>()

/** Two SDK clients in room "r", chatting the whole time, one message in flight each. */
interface Witness {
  client: Client<typeof chat>
  seen: RoomMessage<typeof chat>[]
  problems: string[]
  sent: string[]
}
const witnesses: Witness[] = []
let chatting = true
let chatter: Promise<void> | undefined

function witness(url: string): Witness {
  const w: Witness = {
    client: createClient({ url, protocol: chat, WebSocket, reconnect: { initialMs: 50, maxMs: 200 } }),
    seen: [],
    problems: [],
    sent: [],
  }
  w.client.on('error', (error) => w.problems.push(`error event: ${error.code}: ${error.message}`))
  const room = w.client.join('r', { presence: { name: 'witness' } })
  // What an application does with what it receives: keep it, and serialize it.
  room.onMessage((m) => {
    w.seen.push(m)
    if (nestsDeeperThan(m.data, NESTING_LIMIT)) w.problems.push(`message ${m.seq} nests past the limit`)
    JSON.stringify(m.data)
  })
  for (const event of ['member_joined', 'presence'] as const) {
    room.on(event, (member) => {
      if (nestsDeeperThan(member.presence, NESTING_LIMIT))
        w.problems.push(`${event} presence nests past the limit`)
      JSON.stringify(member.presence)
    })
  }
  return w
}

beforeAll(async () => {
  process.on('uncaughtException', onUnhandled)
  process.on('unhandledRejection', onUnhandled)
  // Rate limits have their own test: the fuzzer sends far more than 100 messages a second.
  server = await startChildServer({
    rateLimitPerSec: 0,
    maxMessageBytes: MAX_FRAME_BYTES,
    logErrors: true,
    chatProtocol: true,
  })
  witnesses.push(witness(server.url), witness(server.url))
  await Promise.all(witnesses.map((w) => w.client.join('r').ready))
  let n = 0
  chatter = (async () => {
    while (chatting) {
      for (const w of witnesses) {
        const text = `tick ${n++}`
        await w.client.join('r').publish('chat', { text })
        w.sent.push(text)
      }
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  })()
}, 30_000)

afterAll(async () => {
  chatting = false
  await chatter?.catch(() => undefined)
  for (const w of witnesses) w.client.close()
  await server?.close()
  process.off('uncaughtException', onUnhandled)
  process.off('unhandledRejection', onUnhandled)
})

/** Broadcasts a member receives because of others, not replies to its own frames. */
const ambient = new Set(['message', 'member_joined', 'member_left', 'presence', 'direct', 'members'])

/**
 * Send frames one at a time, each followed by a ping barrier, and collect what came back before its pong.
 * Not pipelined: a frame that fails to decode is answered at once, while a valid one waits for the
 * connection's queue, so a later error could overtake an earlier reply (refs correlate replies, order
 * is not specified). Returns per frame the replies, or 'closed' with the close code.
 */
async function exchange(attacker: JsonClient, frames: FuzzFrame[]): Promise<(ServerMessage[] | number)[]> {
  const out: (ServerMessage[] | number)[] = []
  for (const [i, frame] of frames.entries()) {
    const oversized = frame.kind === 'text' && Buffer.byteLength(frame.text) > MAX_FRAME_BYTES
    if (oversized || frame.kind === 'invalidUtf8') {
      attacker.sendRaw(frame.kind === 'text' ? frame.text : frame.bytes)
      out.push((await attacker.closed).code)
      return out
    }
    const start = attacker.messages.length
    const barrier = `\u0000barrier-${i}`
    if (frame.kind === 'binary') attacker.sendRaw(Buffer.from(frame.bytes), true)
    else attacker.sendRaw(frame.text)
    attacker.send({ type: 'ping', ref: barrier })
    await attacker.waitFor((m) => m.type === 'pong' && m.ref === barrier, 10_000, start)
    // A request's handler runs beside the connection's later messages (PROTOCOL.md, "Requests"), so
    // its answer may come after the barrier's pong: wait for it too, before the next frame is sent.
    const ref = requestRef(frame)
    const early = attacker.messages.slice(start)
    // A refused frame is answered at once (its error before the pong, with no ref when refused unparsed).
    const answered = early.some((m) => m.type === 'error' || ('ref' in m && JSON.stringify(m.ref) === ref))
    if (ref !== undefined && !answered) {
      await attacker
        .waitFor((m) => 'ref' in m && JSON.stringify(m.ref) === ref, 5_000, start)
        .catch(() => undefined) // none at all is the check's finding, with the frame named
    }
    const answers = attacker.messages.slice(start).filter((m) => !(m.type === 'pong' && m.ref === barrier))
    out.push(answers)
  }
  return out
}

/** The ref (as JSON) of a frame that parses as a `request` carrying one; a shape check, not decoding. */
function requestRef(frame: FuzzFrame): string | undefined {
  if (frame.kind !== 'text') return undefined
  try {
    const parsed: unknown = JSON.parse(frame.text)
    if (typeof parsed !== 'object' || parsed === null || !('type' in parsed) || !('ref' in parsed)) return
    return parsed.type === 'request' ? JSON.stringify(parsed.ref) : undefined
  } catch {
    return undefined
  }
}

/** The answer the protocol specifies for one frame, checked against what came back. */
function check(frame: FuzzFrame, outcome: ServerMessage[] | number): void {
  stats.frames++
  const where = `(${frame.note})`
  if (typeof outcome === 'number') {
    if (frame.kind === 'invalidUtf8') {
      expect(outcome, `invalid UTF-8 closes with 1007 ${where}`).toBe(1007)
      stats.closes1007++
    } else {
      expect(outcome, `a frame over ${MAX_FRAME_BYTES} bytes closes with 1009 ${where}`).toBe(1009)
      stats.closes1009++
    }
    return
  }
  const own = outcome.filter((m) => !ambient.has(m.type))
  expect(
    own.filter((m) => m.type === 'error' && m.code === 'internal'),
    `no internal error ${where}`,
  ).toEqual([])
  if (frame.kind === 'binary') {
    stats.binary++
    expect(own, `a binary frame gets one bad_request ${where}`).toEqual([
      expect.objectContaining({ type: 'error', code: 'bad_request' }),
    ])
    return
  }
  if (frame.kind !== 'text') return
  // The bytes as sent: a lone surrogate in the text goes over the wire as U+FFFD.
  const expected = decodeClientMessage(Buffer.from(frame.text), { maxBytes: MAX_FRAME_BYTES })
  if (frame.mustRefuse !== undefined) {
    stats.mustRefuse++
    // The grammar's own verdict, independent of the decoder: it must agree.
    expect(expected.success, `the protocol refuses this (${frame.mustRefuse}) ${where}`).toBe(false)
  }
  if (!expected.success) {
    stats.refused++
    expect(own, `exactly one error for a refused frame ${where}`).toHaveLength(1)
    const error = own[0] as Extract<ServerMessage, { type: 'error' }>
    expect(error, where).toMatchObject({ type: 'error', code: expected.error.code })
    // Compared as JSON: a ref of -0 goes over the wire as 0.
    expect(JSON.stringify(error.ref), `the error carries the frame's ref ${where}`).toBe(
      JSON.stringify(expected.error.ref),
    )
    expect(error.message.length, `an error message is at most 300 characters ${where}`).toBeLessThanOrEqual(
      300,
    )
    if (frame.nestedIn !== undefined) {
      const named = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(frame.nestedIn) ? frame.nestedIn : undefined
      if (named !== undefined) {
        expect(error.message, `the nesting error names the field ${where}`).toBe(
          `${named}: must not nest more than ${NESTING_LIMIT} levels deep`,
        )
        nestedFields.add(`${frame.note.split(':')[0]}.${named}`)
      }
      stats.deepestRefused = Math.max(stats.deepestRefused, Number(/nests (\d+)/.exec(frame.note)?.[1] ?? 0))
    }
    return
  }
  stats.accepted++
  expect(
    own.filter((m) => m.type === 'error' && m.code === 'bad_request'),
    `no bad_request for a valid frame ${where}`,
  ).toEqual([])
  const ref = expected.data.ref
  if (ref !== undefined) {
    expect(
      own.filter((m) => 'ref' in m && JSON.stringify(m.ref) === JSON.stringify(ref)),
      `one reply with the ref ${where}`,
    ).toHaveLength(1)
  }
}

async function attack(frames: FuzzFrame[]): Promise<void> {
  const attacker = await connectJson(server.url)
  try {
    const outcomes = await exchange(attacker, frames)
    for (const [i, outcome] of outcomes.entries()) check(frames[i]!, outcome)
    if (typeof outcomes.at(-1) !== 'number')
      expect(attacker.ws.readyState, 'the connection stays open').toBe(WebSocket.OPEN)
  } finally {
    await attacker.close()
  }
}

describe('grammar-wide fuzzing of the server', () => {
  it('refuses a frame nesting past the limit in every field of every message type with one bad_request naming the field, up to and past the frame limit', async () => {
    const samples = nestingSweep(
      grammar,
      (g) => fc.sample(validMessage(g, { room: ['fuzz'], event: ['e'] }), { numRuns: 1, seed: 7 })[0]!,
    )
    // A frame over the size limit ends its connection (1009): each of those gets a connection of its own.
    const closing = (f: FuzzFrame) => f.kind === 'text' && Buffer.byteLength(f.text) > MAX_FRAME_BYTES
    const open = samples.filter((f) => !closing(f))
    for (let i = 0; i < open.length; i += 25) await attack(open.slice(i, i + 25))
    for (const frame of samples.filter(closing)) await attack([frame])
    report('fuzz server: nesting sweep', { frames: samples.length, fieldsRefused: nestedFields.size })
    const expectedFields = grammar.flatMap((g) => [...g.fields, '__proto__'].map((f) => `${g.type}.${f}`))
    expect([...nestedFields].sort()).toEqual(expect.arrayContaining(expectedFields.sort()))
    expect(server.exit).toBeUndefined()
  }, 120_000)

  it(
    'answers generated and mutated frames of every message type as the protocol says, and keeps the connection open',
    async () => {
      const { seed, path } = seedFrom('ROOMWIRE_FUZZ_SEED')
      const deadline = performance.now() + budgetMs
      report('fuzz server: start', { seed, budgetSeconds: budgetMs / 1000 })
      await fc.assert(
        fc.asyncProperty(
          fc.array(grammarFrames(grammar, prefer), { minLength: 1, maxLength: 10 }),
          async (frames) => {
            stats.runs++
            await attack(frames)
          },
        ),
        {
          seed,
          ...(path === undefined ? {} : { path }),
          numRuns: Number.MAX_SAFE_INTEGER,
          plugins: [stopStartingAfter(deadline)],
        },
      )
      expect(stats.frames).toBeGreaterThan(100)
      expect(stats.mustRefuse).toBeGreaterThan(0)
      expect(unhandled).toEqual([])
    },
    budgetMs + 120_000,
  )

  it('kept the server alive with nothing on stderr, the witnesses chatting once and in order, and every prototype untouched', async () => {
    chatting = false
    await chatter
    const sent = witnesses.flatMap((w) => w.sent)
    await vi.waitFor(
      () => {
        for (const w of witnesses)
          for (const text of sent)
            expect(w.seen.some((m) => (m.data as { text?: string }).text === text)).toBe(true)
      },
      { timeout: 10_000 },
    )
    for (const w of witnesses) {
      const seqs = w.seen.map((m) => m.seq)
      // Every message of the room, the fuzzers' publishes into "r" included, once and in order.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
      expect(w.problems).toEqual([])
      expect(w.client.status).toBe('open')
    }
    expect(server.exit).toBeUndefined()
    expect(server.stderr()).toBe('')
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined()
    expect(prototypeKeys()).toEqual(prototypesBefore)
    expect(unhandled).toEqual([])
    report('fuzz server', {
      budgetSeconds: budgetMs / 1000,
      ...stats,
      nestedFields: nestedFields.size,
      witnessMessages: witnesses.map((w) => w.seen.length),
      chatted: sent.length,
    })
  }, 30_000)
})
