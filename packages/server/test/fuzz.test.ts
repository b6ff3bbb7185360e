import { ClientMessageSchema } from '@roomwire/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { startTestServer } from './helpers'

/** Every client message type the protocol defines (it follows the union), and one it does not. */
const types = [...ClientMessageSchema.options.map((schema) => schema.shape.type.value), 'nope']

const names = fc.oneof(
  fc.constantFrom('r', '__proto__', 'constructor', 'a b', ''),
  fc.string({ maxLength: 140 }),
)
const values = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant(undefined))
const frames = fc.oneof(
  fc
    .record(
      {
        type: fc.constantFrom(...types),
        room: names,
        event: names,
        to: names,
        data: values,
        state: values,
        since: fc.oneof(fc.integer(), fc.double()),
        epoch: fc.string({ maxLength: 70 }),
        history: fc.integer(),
        ref: fc.oneof(fc.string({ maxLength: 70 }), fc.double(), fc.constant(null)),
        echo: fc.jsonValue({ maxDepth: 1 }),
        name: names,
        id: fc.oneof(fc.constantFrom('k', '__proto__'), fc.string({ maxLength: 70 })),
        input: values,
        before: fc.integer(),
        limit: fc.integer(),
      },
      { requiredKeys: ['type'] },
    )
    .map((o) => JSON.stringify(o)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('[', '{}', '[]', '42', 'null', '"x"', '['.repeat(5000)),
)

describe('hostile input', () => {
  it('answers random and mutated frames without crashing, and other members keep receiving', async () => {
    await using server = await startTestServer({ rateLimitPerSec: 0 })
    await using attacker = await server.connect({ join: 'r' })
    await using bystander = await server.connect({ join: 'r' })
    await using witness = await server.connect({ join: 'r' })
    await fc.assert(
      fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 20 }), async (batch) => {
        for (const frame of batch) attacker.sendRaw(frame)
        await attacker.request({ type: 'ping' })
      }),
      { numRuns: 60 },
    )
    expect(attacker.ws.readyState).toBe(1)
    bystander.send({ type: 'publish', room: 'r', event: 'still', data: 'alive' })
    await expect(witness.next('message', (m) => m.event === 'still')).resolves.toMatchObject({
      data: 'alive',
    })
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })
})
