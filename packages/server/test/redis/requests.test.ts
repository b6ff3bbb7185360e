import { defineProtocol } from '@roomwire/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as z from 'zod'
import type { RequestHandlers } from '../../src/index'
import type { TestServer } from '../helpers'
import { deleteKeys, REDIS_URL, startNode, uniquePrefix } from './redis-helpers'

const app = defineProtocol({
  requests: {
    announce: { input: z.object({ text: z.string() }), output: z.object({ seq: z.int() }), room: true },
    claim: { input: z.object({ seat: z.int() }), output: z.object({ node: z.string() }), idempotent: true },
  },
})

let prefix = ''
let nodes: TestServer[] = []
afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  nodes = []
  await deleteKeys(REDIS_URL, prefix)
})

/** Nodes whose handlers say which node ran them; `announce` publishes through the cluster. */
async function cluster(count: number): Promise<TestServer[]> {
  prefix = uniquePrefix()
  nodes = await Promise.all(
    Array.from({ length: count }, (_, n) => {
      let runs = 0
      const handlers: RequestHandlers = {
        announce: async (input, ctx) =>
          ctx.server.broadcast(ctx.room as string, 'announce', { text: (input as { text: string }).text }),
        claim: () => ({ node: `n${n}#${++runs}` }),
      }
      return startNode(prefix, {}, { protocol: app, handlers })
    }),
  )
  return nodes
}

describe('requests with the Redis adapter', () => {
  it("handles a request on the caller's node; its server API reaches members on the others", async () => {
    const [a, b] = await cluster(2)
    const caller = await a!.connect({ join: 'lobby' })
    const other = await b!.connect({ join: 'lobby' })
    const reply = await caller.request({
      type: 'request',
      name: 'announce',
      room: 'lobby',
      input: { text: 'hi' },
      id: 'x',
      ref: 1,
    })
    expect(reply).toMatchObject({ type: 'reply', output: { seq: 1 } })
    await expect(other.next('message')).resolves.toMatchObject({
      event: 'announce',
      data: { text: 'hi' },
      seq: 1,
    })
  })

  it('dedupes an idempotent resend on the same node only: another node runs it again', async () => {
    const [a, b] = await cluster(2)
    const msg = { type: 'request' as const, name: 'claim', input: { seat: 1 }, id: 'same', ref: 1 }
    await expect((await a!.connect()).request(msg)).resolves.toMatchObject({ output: { node: 'n0#1' } })
    await expect((await a!.connect()).request(msg)).resolves.toMatchObject({ output: { node: 'n0#1' } })
    await expect((await b!.connect()).request(msg)).resolves.toMatchObject({ output: { node: 'n1#1' } })
  })
})
