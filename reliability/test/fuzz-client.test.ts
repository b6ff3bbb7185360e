import { type Client, createClient } from '@roomwire/client'
import { decodeServerMessage, ERROR_CODES, nestsDeeperThan, ServerMessageSchema } from '@roomwire/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { fuzzSeconds, report, seedFrom, stopStartingAfter, waitUntil } from './support/budget'
import { grammarOf, validMessage } from './support/grammar'
import { type Delivered, HONEST_ROOM, type HostileServer, startHostileServer } from './support/hostile-server'
import { type FuzzFrame, grammarFrames, NESTING_LIMIT, nested, nestingSweep } from './support/mutations'

/**
 * Grammar-wide fuzzing of the SDK client (issue 12, "Tests that keep it fixed"): a scripted hostile
 * server sends frames generated from ServerMessageSchema (every message type, every field), valid and
 * mutated, before `welcome` and between the honest messages of room "r". Budget: 40 % of
 * ROOMWIRE_FUZZ_SECONDS (default 45, shared with fuzz-server.test.ts).
 */
const budgetMs = fuzzSeconds(45) * 1000 * 0.4
const HONEST = 5
/** Event names the application listens to with `onDirect`; generated frames prefer them. */
const DIRECT_EVENTS = ['chat', 'e', '__proto__', 'constructor']
const grammar = grammarOf(ServerMessageSchema)
const protocolCodes = new Set<string>(ERROR_CODES)

const unhandled: unknown[] = []
const onUnhandled = (err: unknown) => unhandled.push(err)
let hostile: HostileServer
const stats = {
  runs: 0,
  hostileFrames: 0,
  refused: 0,
  valid: 0,
  invalidUtf8: 0,
  reconnects: 0,
  preWelcome: 0,
}

beforeAll(async () => {
  process.on('uncaughtException', onUnhandled)
  process.on('unhandledRejection', onUnhandled)
  hostile = await startHostileServer()
})

afterAll(async () => {
  await hostile?.close()
  process.off('uncaughtException', onUnhandled)
  process.off('unhandledRejection', onUnhandled)
})

function bytesOf(frame: FuzzFrame): Uint8Array | string {
  // A text frame arrives as the UTF-8 of what was sent: a lone surrogate becomes U+FFFD.
  return frame.kind === 'text' ? Buffer.from(frame.text).toString() : frame.bytes
}

/**
 * Whether the SDK can use a frame: a text frame the protocol decodes, and, for the honest room, one that
 * fits where it arrives. A binary frame never is, whatever it holds: the protocol's frames are text
 * (PROTOCOL.md, "Transport"). Nor is a `members` page for the honest room after `welcome`, whose `joined`
 * never said `more`: the SDK reports both through its error event. Before `welcome` a decodable frame
 * is ignored without a report (welcome always comes first).
 */
function usable(d: Delivered): boolean {
  if (d.frame.kind !== 'text') return false
  const decoded = decodeServerMessage(bytesOf(d.frame))
  if (!decoded.success) return false
  return !(d.afterWelcome && decoded.data.type === 'members' && decoded.data.room === HONEST_ROOM)
}

/**
 * Valid frames that would legitimately change what room "r" delivers (a `message`, `joined` or `reset`
 * for it), answer one of the client's own requests (a small integer `ref`), or replace the real
 * `welcome`, are the honest server's business, not a fuzzer's: left out.
 */
function harmless(frame: FuzzFrame, beforeWelcome: boolean): boolean {
  if (frame.kind === 'invalidUtf8') return true
  const decoded = decodeServerMessage(bytesOf(frame))
  if (!decoded.success) return true
  const m = decoded.data
  if ((m.type === 'message' || m.type === 'joined' || m.type === 'reset') && m.room === HONEST_ROOM)
    return false
  if ('ref' in m && typeof m.ref === 'number' && m.ref >= -1 && m.ref < 1e9) return false
  if (m.type === 'welcome' && beforeWelcome) return false
  return true
}

const frame = (beforeWelcome: boolean) =>
  fc
    .oneof(
      {
        arbitrary: grammarFrames(grammar, {
          room: ['other', '__proto__', HONEST_ROOM],
          event: DIRECT_EVENTS,
        }),
        weight: 9,
      },
      // The v0.1 crash, as any server or man in the middle could send it: nesting in `type`.
      {
        arbitrary: fc.integer({ min: 33, max: 30_000 }).map(
          (levels): FuzzFrame => ({
            kind: 'text',
            text: `{"type":${nested(levels, 'array')}}`,
            note: `type nests ${levels} levels`,
          }),
        ),
        weight: 1,
      },
    )
    .filter((f) => harmless(f, beforeWelcome))

const script = fc.record({
  beforeWelcome: fc.array(frame(true), { maxLength: 3 }),
  between: fc.array(fc.array(frame(false), { maxLength: 3 }), { minLength: HONEST, maxLength: HONEST }),
})

/**
 * The deepest value the protocol lets reach an application: a server frame nests at most
 * maxNestingDepth + 3 levels (PROTOCOL.md "Details"), the frame's own object is one of them, so a
 * `direct`'s data may nest 34 levels. The bound is the frame's, not each payload's.
 */
const APP_LIMIT = NESTING_LIMIT + 2

/** The application: it keeps and serializes what it gets, and notes anything nesting past the bound. */
function application(client: Client) {
  const problems: string[] = []
  const depths: number[] = []
  const keep = (where: string, value: unknown) => {
    if (nestsDeeperThan(value, APP_LIMIT)) problems.push(`${where} nests past ${APP_LIMIT}`)
    JSON.stringify(value)
    let depth = 0
    while (depth <= APP_LIMIT && nestsDeeperThan(value, depth)) depth++
    depths.push(depth)
  }
  const room = client.join(HONEST_ROOM)
  const honest: string[] = []
  room.onMessage((m) => {
    honest.push((m.data as { k?: string } | null)?.k ?? JSON.stringify(m.data).slice(0, 40))
    keep(`message ${m.seq}`, m.data)
  })
  for (const event of ['member_joined', 'member_left', 'presence'] as const) {
    room.on(event, (member) => keep(`${event} presence`, member.presence))
  }
  const resyncs: unknown[] = []
  room.on('resync', (info) => resyncs.push(info))
  for (const event of DIRECT_EVENTS) client.onDirect(event, (data) => keep(`direct ${event}`, data))
  const reported: string[] = []
  client.on('error', (error) => reported.push(error.code))
  return { room, honest, problems, resyncs, reported, depths }
}

/** Play one script against a fresh client; what the application got, and what was sent. */
async function play(s: { beforeWelcome: FuzzFrame[]; between: FuzzFrame[][] }) {
  hostile.play(s, HONEST)
  const client = createClient({
    url: hostile.url,
    WebSocket,
    reconnect: { initialMs: 10, maxMs: 50 },
    logger: { error: () => {} },
  })
  try {
    const app = application(client)
    await waitUntil(() => app.honest.length >= HONEST, 5000)
    const received = hostile.sent.filter((d) => d.frame.kind !== 'invalidUtf8')
    const refused = received.filter((d) => !usable(d))
    return { app, refused, received, sent: hostile.sent, connections: hostile.connections }
  } finally {
    client.close()
  }
}

describe('grammar-wide fuzzing of the SDK client against a hostile server', () => {
  it('lets no value nested past the limit reach the application from any field of any server message type, from one level past it to the frame limit', async () => {
    // Samples aimed at the application: the honest room (membership and presence frames reach its
    // handlers; the ones that would change its delivery are left out) and an event it listens to.
    const frames = nestingSweep(grammar, (g) => {
      const sample = fc.sample(validMessage(g), { numRuns: 1, seed: 11 })[0]!
      if ('room' in sample) sample.room = HONEST_ROOM
      if ('event' in sample) sample.event = 'e'
      if ('ref' in sample) sample.ref = 'hostile'
      return sample
    }).filter((f) => harmless(f, false))
    let deepest = 0
    let deepestDelivered = 0
    const reachedApp: string[] = []
    for (let i = 0; i < frames.length; i += HONEST * 3) {
      const batch = frames.slice(i, i + HONEST * 3)
      const between = Array.from({ length: HONEST }, (_, k) => batch.slice(k * 3, k * 3 + 3))
      const { app, refused } = await play({ beforeWelcome: [], between })
      expect(app.honest, 'honest messages once and in order').toEqual(
        Array.from({ length: HONEST }, (_, k) => `h${k + 1}`),
      )
      reachedApp.push(...app.problems.map((p) => `${p} (from ${batch.map((f) => f.note).join('; ')})`))
      expect(app.reported.filter((code) => !protocolCodes.has(code))).toHaveLength(refused.length)
      for (const f of batch) deepest = Math.max(deepest, Number(/nests (\d+)/.exec(f.note)?.[1] ?? 0))
      deepestDelivered = Math.max(deepestDelivered, ...app.depths)
    }
    report('fuzz client: nesting sweep', {
      frames: frames.length,
      deepest,
      deepestDelivered,
      reachedApp: reachedApp.length,
    })
    // The sweep reached the application's handlers with values at the bound, not only with refusals.
    expect(deepestDelivered).toBeGreaterThanOrEqual(NESTING_LIMIT)
    expect(reachedApp).toEqual([])
    expect(unhandled).toEqual([])
  }, 120_000)

  it(
    'reports every frame it cannot use through its error event, lets nothing nested past the limit reach the application, and delivers every honest message once and in order',
    async () => {
      const { seed, path } = seedFrom('ROOMWIRE_FUZZ_SEED')
      const deadline = performance.now() + budgetMs
      report('fuzz client: start', { seed, budgetSeconds: budgetMs / 1000 })
      await fc.assert(
        fc.asyncProperty(script, async (s) => {
          stats.runs++
          hostile.play(s, HONEST)
          const client = createClient({
            url: hostile.url,
            WebSocket,
            reconnect: { initialMs: 10, maxMs: 50 },
            logger: { error: () => {} },
          })
          try {
            const app = application(client)
            await waitUntil(() => app.honest.length >= HONEST, 5000)
            const received = hostile.sent.filter((d) => d.frame.kind !== 'invalidUtf8')
            const refused = received.filter((d) => !usable(d))
            stats.hostileFrames += hostile.sent.length
            stats.refused += refused.length
            stats.valid += received.length - refused.length
            stats.invalidUtf8 += hostile.sent.length - received.length
            stats.reconnects += hostile.connections - 1
            stats.preWelcome += hostile.sent.filter((d) => !d.afterWelcome).length
            const notes = hostile.sent.map((d) => d.frame.note).join('; ')
            expect(app.honest, `honest messages once and in order (hostile: ${notes})`).toEqual(
              Array.from({ length: HONEST }, (_, i) => `h${i + 1}`),
            )
            expect(app.problems, notes).toEqual([])
            expect(app.resyncs, notes).toEqual([])
            // One report per frame it could not use; the protocol's own `error` frames are reported too,
            // with their codes, and are not counted here.
            const own = app.reported.filter((code) => !protocolCodes.has(code))
            expect(
              own,
              `one error event per refused frame (refused: ${refused.map((d) => d.frame.note).join('; ')})`,
            ).toHaveLength(refused.length)
            expect(unhandled).toEqual([])
          } finally {
            client.close()
          }
        }),
        {
          seed,
          ...(path === undefined ? {} : { path }),
          numRuns: Number.MAX_SAFE_INTEGER,
          plugins: [stopStartingAfter(deadline)],
        },
      )
      report('fuzz client', { budgetSeconds: budgetMs / 1000, ...stats })
      expect(stats.runs).toBeGreaterThan(10)
      expect(stats.refused).toBeGreaterThan(0)
      expect(unhandled).toEqual([])
    },
    budgetMs + 90_000,
  )
})
