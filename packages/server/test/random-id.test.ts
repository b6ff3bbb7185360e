import { describe, expect, it } from 'vitest'
import { newEpoch } from '../src/index'
import { randomId } from '../src/random-id'

describe('randomId', () => {
  it('gives the prefix and 9 random bytes in base64url, never the same twice across pool refills', () => {
    const seen = new Set<string>()
    // 2,000 ids of 9 bytes draw 18,000 bytes: four refills of the 4,095-byte pool, at every offset.
    for (let i = 0; i < 2000; i++) {
      const id = randomId('c_', 9)
      expect(id).toMatch(/^c_[A-Za-z0-9_-]{12}$/)
      seen.add(id)
    }
    expect(seen.size).toBe(2000)
  })

  it('serves sizes that do not divide the pool, and ids of other sizes between them', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => randomId('x', (i % 7) + 6))
    expect(new Set(ids).size).toBe(ids.length)
    for (const [i, id] of ids.entries())
      expect(Buffer.from(id.slice(1), 'base64url')).toHaveLength((i % 7) + 6)
  })

  it('keeps the epoch format: e_ and 12 characters', () => {
    expect(newEpoch()).toMatch(/^e_[A-Za-z0-9_-]{12}$/)
    expect(newEpoch()).not.toBe(newEpoch())
  })
})
