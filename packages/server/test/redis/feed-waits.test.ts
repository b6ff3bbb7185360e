import { describe, expect, it } from 'vitest'
import type { AdapterNode } from '../../src/adapter'
import { RoomFeed } from '../../src/redis/room-feed'
import { manualClock } from '../manual-clock'

/** One turn of the event loop: what a settled promise chain does happens by then. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A feed on `clock`; these waits never reach the node or ask for a catch-up. */
const feedOn = (clock: ReturnType<typeof manualClock>) =>
  new RoomFeed('r', 'ch:r', {} as AdapterNode, () => {}, clock)

describe("a room feed's waits, on the adapter's clock", () => {
  it("gives up on a join's mark at exactly timeoutMs", async () => {
    const clock = manualClock()
    const { promise } = feedOn(clock).waitMark('m1', 1000)
    let error: unknown
    promise.catch((err: unknown) => {
      error = err
    })
    clock.advance(999)
    await turn()
    expect(error).toBeUndefined()
    clock.advance(1)
    await turn()
    expect(String(error)).toContain("did not deliver the join's mark within 1000 ms")
    expect(clock.pending).toBe(0)
  })

  it('leaves no timer when a mark wait is cancelled', () => {
    const clock = manualClock()
    const { promise, cancel } = feedOn(clock).waitMark('m1', 1000)
    promise.catch(() => {})
    expect(clock.pending).toBe(1)
    cancel()
    expect(clock.pending).toBe(0)
  })

  it('answers a delivery wait false at exactly timeoutMs, and true at once when the feed is let go', async () => {
    const clock = manualClock()
    const feed = feedOn(clock)
    let first: boolean | undefined
    void feed.delivered('e1', 5, 1000).then((delivered) => {
      first = delivered
    })
    clock.advance(999)
    await turn()
    expect(first).toBeUndefined()
    clock.advance(1)
    await turn()
    expect(first).toBe(false)
    const second = feed.delivered('e1', 6, 1000)
    feed.release()
    await expect(second).resolves.toBe(true)
    expect(clock.pending).toBe(0)
  })
})
