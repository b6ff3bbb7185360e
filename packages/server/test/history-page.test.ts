import { decodeServerMessage } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import { historyFrame } from '../src/history-frame'
import { HistoryRing } from '../src/index'
import { framesOf, msg, pushMessage, seqsOf } from './helpers'

function ringOf(from: number, to: number, capacity = 100): HistoryRing {
  const ring = new HistoryRing(capacity)
  for (let seq = from; seq <= to; seq++) pushMessage(ring, msg(seq))
  return ring
}

describe('HistoryRing.before', () => {
  it('pages back from the newest, oldest first, with more while older ones are held', () => {
    const ring = ringOf(1, 10)
    const newest = ring.before(undefined, 4)
    expect([seqsOf(newest.frames), newest.more]).toEqual([[7, 8, 9, 10], true])
    const next = ring.before(7, 4)
    expect([seqsOf(next.frames), next.more]).toEqual([[3, 4, 5, 6], true])
    const last = ring.before(3, 4)
    expect([seqsOf(last.frames), last.more]).toEqual([[1, 2], false])
  })

  it('pages only what is held: before the oldest held there is nothing, and more is false', () => {
    // Capacity 5: seqs 16 to 20 are held.
    const ring = ringOf(1, 20, 5)
    expect(seqsOf(ring.before(18, 10).frames)).toEqual([16, 17])
    expect(ring.before(16, 10)).toEqual({ frames: [], more: false })
    expect(ring.before(1, 10)).toEqual({ frames: [], more: false })
  })

  it('treats a before above the newest as the newest, and an empty ring as nothing', () => {
    expect(seqsOf(ringOf(1, 3).before(99, 10).frames)).toEqual([1, 2, 3])
    expect(new HistoryRing(10).before(undefined, 10)).toEqual({ frames: [], more: false })
  })
})

describe('historyFrame', () => {
  const page = { room: 'r', ref: 7, epoch: 'e_1', frames: framesOf(msg(1), msg(2), msg(3)), more: false }

  it('is a history frame the protocol decodes, holding the messages as they were sent', () => {
    const { text, count } = historyFrame(page, 65_536)
    expect(count).toBe(3)
    const decoded = decodeServerMessage(text)
    expect(decoded).toEqual({
      success: true,
      data: {
        type: 'history',
        room: 'r',
        ref: 7,
        epoch: 'e_1',
        messages: [msg(1), msg(2), msg(3)],
        more: false,
      },
    })
  })

  it('keeps the newest messages that fit the frame size and then says more', () => {
    const big = (seq: number) => ({ ...msg(seq), data: 'x'.repeat(1000) })
    const frames = framesOf(big(1), big(2), big(3), big(4))
    const { text, count } = historyFrame({ ...page, frames }, 2500)
    expect(count).toBe(2)
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2500)
    const decoded = decodeServerMessage(text)
    expect(
      decoded.success && decoded.data.type === 'history' && decoded.data.messages.map((m) => m.seq),
    ).toEqual([3, 4])
    expect(decoded.success && decoded.data.type === 'history' && decoded.data.more).toBe(true)
  })

  it('always holds one message, even one larger than the frame size, so paging moves on', () => {
    const { count } = historyFrame({ ...page, frames: framesOf({ ...msg(1), data: 'x'.repeat(5000) }) }, 100)
    expect(count).toBe(1)
  })
})
