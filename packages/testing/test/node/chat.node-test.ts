// Run by node:test in a process of its own (node-test.test.ts starts it), so that the kit is shown
// to work without vitest, and that nothing is left running: not a socket, a listener or a timer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestServer } from '@roomwire/testing'
import { chat } from '../chat'

const kinds = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const
const live = () =>
  process.getActiveResourcesInfo().filter((kind) => (kinds as readonly string[]).includes(kind))

test('a chat message reaches the other member, and a cut client comes back', async () => {
  const before = live()
  {
    await using server = await createTestServer({ protocol: chat })
    await using alice = await server.connect({ user: 'alice' })
    await using bob = await server.connect({ user: 'bob' })
    await Promise.all([alice.join('general').ready, bob.join('general').ready])
    await alice.room('general').handle.publish('chat', { text: 'hi from node:test' })
    const message = await bob.room('general').next('chat')
    assert.equal(message.data.text, 'hi from node:test')
    await server.cut(bob)
    await bob.waitFor('open')
    await bob.room('general').waitFor('joined')
    await bob.room('general').nothing('chat', 20)
  }
  assert.deepEqual(live(), before)
})
