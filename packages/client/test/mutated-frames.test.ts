import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
})

/** Park-Miller: the same frames on every run. */
function seeded(seed: number) {
  let state = seed
  return () => {
    state = (state * 16807) % 2147483647
    return (state - 1) / 2147483646
  }
}

const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

/**
 * Frames of every type a server sends to a joined room's client, except those that legitimately reset
 * its state (`joined`, `reset`). A `message` keeps seq 1, so a mutation that is still valid is a
 * duplicate of what was delivered.
 */
const templates: Array<Record<string, unknown>> = [
  { type: 'message', room: 'r', event: 'e', data: 'x', from: 'c9', seq: 1, ts: 1, id: 'm1' },
  { type: 'member_joined', room: 'r', member: { id: 'c7', user: 'u', presence: { a: 1 } } },
  { type: 'member_left', room: 'r', id: 'c7' },
  { type: 'presence', room: 'r', id: 'c7', state: { typing: true } },
  { type: 'members', room: 'r', members: [{ id: 'c8' }], more: true },
  { type: 'ack', ref: 999, seq: 3 },
  { type: 'error', code: 'internal', message: 'm', ref: 998, room: 'r' },
  { type: 'pong', t: 1, ref: 997 },
  { type: 'system', message: 'hello', code: 'notice' },
  { type: 'direct', event: 'd', data: 1, from: 'c9', ts: 1 },
  { type: 'left', room: 'r', ref: 996 },
  {
    type: 'welcome',
    id: 'x',
    protocol: 1,
    heartbeat: { interval: 1, timeout: 1 },
    limits: { maxMessageBytes: 1, maxRoomsPerConnection: 1 },
  },
]

/** A frame's text with one field (or the whole frame) replaced by something hostile. */
function mutate(template: Record<string, unknown>, random: () => number): string {
  const keys = Object.keys(template)
  const key = keys[Math.floor(random() * keys.length)]!
  const values = [
    deep(40),
    deep(5_000),
    `"${'x'.repeat(70_000)}"`,
    '-1',
    '1e400',
    'null',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '"\\ud800"',
    `{"a":${deep(33)}}`,
  ]
  const value = values[Math.floor(random() * values.length)]!
  const fields = keys
    .filter((k) => k !== key || random() < 0.2)
    .map((k) => `"${k}":${k === key ? value : JSON.stringify(template[k])}`)
  const text = `{${fields.join(',')}}`
  const whole = [
    text,
    text.slice(0, Math.floor(random() * text.length)),
    `[${text}]`,
    deep(4_110),
    `{"type":${value}}`,
  ]
  return random() < 0.7 ? text : whole[Math.floor(random() * whole.length)]!
}

describe('mutated server frames', () => {
  it('never escape the client and never disturb the honest messages around them', async () => {
    startFake()
    const client = fakeClient()
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    const room = client.join('r')
    const seqs: number[] = []
    room.onMessage((m) => seqs.push(m.seq))
    await flush()
    await room.ready
    const socket = FakeWebSocket.latest()
    const honest = (seq: number) =>
      socket.receive({ type: 'message', room: 'r', event: 'e', data: seq, from: 'c9', seq, ts: seq })
    honest(1)
    const random = seeded(12)
    let seq = 1
    for (let i = 0; i < 3_000; i++) {
      const template = templates[Math.floor(random() * templates.length)]!
      expect(() => socket.receive(mutate(template, random))).not.toThrow()
      if (i % 10 === 0) honest(++seq)
    }
    expect(seqs).toEqual(Array.from({ length: seq }, (_, i) => i + 1))
    expect(new Set(errors)).toEqual(new Set(['bad_frame', 'internal']))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(client.status).toBe('open')
    client.close()
  })
})
