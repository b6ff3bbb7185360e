import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isRetryable } from '../src/index'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
})

const phases = (log: { getSnapshot(): readonly { status: string; phase?: string | undefined }[] }) =>
  log.getSnapshot().map((m) => `${m.status}:${m.phase ?? '-'}`)

describe('a message log entry of an own message', () => {
  it('is queued until the room is joined, sent once written, delivered at the ack', async () => {
    startFake()
    // The server answers everything but the publish, until released.
    const held: string[] = []
    let answer: ((frame: string) => void) | null = null
    const accept = FakeWebSocket.onCreate
    FakeWebSocket.onCreate = (socket) => {
      accept?.(socket)
      answer = socket.onSend
      socket.onSend = (frame) => (frame.includes('"type":"publish"') ? held.push(frame) : answer?.(frame))
    }
    const client = fakeClient()
    const room = client.join('r')
    const log = room.messageLog()
    const sent = log.send('e', 'mine')
    expect(phases(log)).toEqual(['sending:queued'])
    await flush()
    await room.ready
    expect(held).toHaveLength(1)
    expect(phases(log)).toEqual(['sending:sent'])
    for (const frame of held) (answer as ((frame: string) => void) | null)?.(frame)
    await sent
    expect(phases(log)).toEqual(['delivered:-'])
    client.close()
  })

  it('says which error codes are worth a retry', () => {
    expect(isRetryable('rate_limited')).toBe(true)
    expect(isRetryable('unavailable')).toBe(true)
    expect(isRetryable('forbidden')).toBe(false)
  })
})
