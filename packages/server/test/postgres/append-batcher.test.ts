import { describe, expect, it } from 'vitest'
import {
  AppendBatcher,
  type AppendItem,
  appendItem,
  type BatcherOptions,
  type BatchWrite,
  rowKey,
} from '../../src/postgres/append-batcher'
import { stored } from './pg-helpers'

/** A batcher whose writes wait until the test settles them, one by one, in any order. */
function harness(options: Partial<BatcherOptions> = {}) {
  const writes: { batch: string[]; finish(result?: BatchWrite): void }[] = []
  const batcher = new AppendBatcher(
    (batch: AppendItem[]) =>
      new Promise<BatchWrite>((resolve) => {
        const keys = batch.map((i) => rowKey(i.message.room, i.message.seq))
        writes.push({
          batch: keys.map((k) => k.replace('\0', ':')),
          finish: (result) => resolve(result ?? { ok: true, inserted: new Set(keys) }),
        })
      }),
    {
      maxRows: 100,
      maxBytes: 1 << 20,
      maxInFlight: 2,
      minOverlapRows: 1,
      schedule: (flush) => setImmediate(flush),
      ...options,
    },
  )
  const push = (room: string, seq: number) => {
    const item = appendItem(stored(room, seq), '1')
    batcher.push(item)
    return item.outcome
  }
  return { batcher, writes, push }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('AppendBatcher', () => {
  it('writes another room beside a batch in flight, and a room only after its previous batch', async () => {
    const { writes, push } = harness()
    const a1 = push('a', 1)
    await turn()
    const a2 = push('a', 2)
    const b1 = push('b', 1)
    await turn()
    // b goes beside a's batch; a's next append waits for it.
    expect(writes.map((w) => w.batch)).toEqual([['a:1'], ['b:1']])
    writes[1]!.finish()
    await expect(b1).resolves.toEqual({ ok: true })
    await turn()
    expect(writes).toHaveLength(2)
    writes[0]!.finish()
    await expect(a1).resolves.toEqual({ ok: true })
    await turn()
    expect(writes.map((w) => w.batch)).toEqual([['a:1'], ['b:1'], ['a:2']])
    writes[2]!.finish()
    await expect(a2).resolves.toEqual({ ok: true })
  })

  it('starts no statement beside one in flight until minOverlapRows appends wait', async () => {
    const { writes, push } = harness({ minOverlapRows: 3 })
    push('a', 1)
    await turn()
    push('b', 1)
    push('c', 1)
    await turn()
    expect(writes).toHaveLength(1)
    push('d', 1)
    await turn()
    expect(writes.map((w) => w.batch)).toEqual([['a:1'], ['b:1', 'c:1', 'd:1']])
  })

  it('refuses what is queued behind a failed batch, while a batch of other rooms commits on its own', async () => {
    const { writes, push } = harness()
    const a1 = push('a', 1)
    await turn()
    const b1 = push('b', 1)
    await turn()
    const a2 = push('a', 2)
    const c1 = push('c', 1)
    const refusal = { ok: false, code: 'unavailable', message: 'postgres: gone' } as const
    writes[0]!.finish(refusal)
    await expect(a1).resolves.toEqual(refusal)
    // a:2 would have followed the failed a:1; c:1 was behind it in the queue: neither is written.
    await expect(a2).resolves.toEqual(refusal)
    await expect(c1).resolves.toEqual(refusal)
    writes[1]!.finish()
    await expect(b1).resolves.toEqual({ ok: true })
    expect(writes).toHaveLength(2)
  })

  it('keeps at most maxInFlight statements and fills the next from what waited, in order', async () => {
    const { batcher, writes, push } = harness({ maxInFlight: 2 })
    push('a', 1)
    await turn()
    push('b', 1)
    await turn()
    for (const room of ['c', 'a', 'd']) push(room, room === 'a' ? 2 : 1)
    await turn()
    expect(writes).toHaveLength(2)
    expect(batcher.pending).toBe(5)
    writes[1]!.finish()
    await turn()
    await turn()
    // a:2 waits for a:1 still in flight; c and d go together.
    expect(writes[2]!.batch).toEqual(['c:1', 'd:1'])
  })
})
