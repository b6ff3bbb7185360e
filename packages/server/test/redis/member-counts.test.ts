import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TestClient, TestServer } from '../helpers'
import { viewOf } from '../member-view'
import { deleteKeys, REDIS_URL, startNode, uniquePrefix } from './redis-helpers'

// Counts mode across nodes (issue 20, PROTOCOL.md "Big rooms"): the count is the cluster's.

let prefix = ''
let nodes: TestServer[] = []

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  nodes = []
  await deleteKeys(REDIS_URL, prefix)
})

async function expectCounts(clients: TestClient[], count: number): Promise<void> {
  await vi.waitFor(() => {
    for (const c of clients) expect(viewOf(c, 'big')).toMatchObject({ count, strayWhileCounted: 0 })
  })
}

describe('counts mode with the Redis adapter', () => {
  it('counts the members of every node, and pages list them all', async () => {
    prefix = uniquePrefix()
    const options = { memberListMax: 4, rateLimitPerSec: 0 }
    nodes = await Promise.all([startNode(prefix, {}, options), startNode(prefix, {}, options)])
    const [a, b] = nodes as [TestServer, TestServer]
    const onA = await Promise.all(Array.from({ length: 5 }, () => a.connect()))
    const onB = await Promise.all(Array.from({ length: 5 }, () => b.connect()))
    for (const c of [...onA, ...onB]) {
      c.send({ type: 'join', room: 'big' })
      await c.next('joined')
    }
    const everyone = [...onA, ...onB]
    await expectCounts(everyone, 10)
    expect(viewOf(onB[4]!, 'big').counted).toBe(true)

    // Members of both nodes leave or drop: every node's members count the cluster's members.
    await onA[0]!.close()
    onB[0]!.ws.terminate()
    onB[1]!.send({ type: 'leave', room: 'big' })
    const staying = [...onA.slice(1), ...onB.slice(2)]
    await expectCounts(staying, 7)

    const ids: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await onA[1]!.request({
        type: 'members_page',
        room: 'big',
        limit: 3,
        ...(after && { after }),
      })
      if (page.type !== 'members_page') throw new Error(JSON.stringify(page))
      expect(page.count).toBe(7)
      ids.push(...page.members.map((m) => m.id))
      if (!page.more) break
      after = ids.at(-1)
    }
    expect(ids.sort()).toEqual(staying.map((c) => c.id).sort())
    await Promise.all([onB[1]!, ...staying].map((c) => c.close()))
  })
})
