import type { ServerMessage } from '@roomwire/protocol'
import { describe, expect, it, vi } from 'vitest'
import { RoomServerError } from '../src/index'
import { heldPublishAdapter } from './adapter-doubles'
import { startTestServer } from './helpers'

/** The types of what a client received, with the ref or code of each reply. */
const replies = (messages: ServerMessage[]) =>
  messages
    .filter((m) => m.type === 'ack' || m.type === 'error' || m.type === 'system' || m.type === 'message')
    .map((m) => (m.type === 'system' ? `system:${m.code}` : m.type === 'error' ? `error:${m.code}` : m.type))

describe('the moment shutdown starts', () => {
  it('refuses a publish whose hook resumes after close() started, after the shutdown notice', async () => {
    let resume: () => void = () => {}
    let entered = false
    await using server = await startTestServer({
      shutdownSpreadMs: 500,
      onPublish: async () => {
        entered = true
        await new Promise<void>((resolve) => {
          resume = resolve
        })
      },
    })
    // The first connection is closed at once; alice, the second, at the end of the spread window.
    await using _first = await server.connect()
    await using alice = await server.connect({ join: 'r' })
    alice.send({ type: 'publish', room: 'r', event: 'e', data: 1, ref: 'late' })
    await vi.waitFor(() => expect(entered).toBe(true))
    const closing = server.server.close({ timeoutMs: 2000 })
    await alice.next('system')
    resume()
    await expect(alice.next('error')).resolves.toMatchObject({ code: 'unavailable', ref: 'late', room: 'r' })
    expect(replies(alice.messages)).toEqual(['system:shutdown', 'error:unavailable'])
    await closing
  })

  it('acks a publish the adapter was still working on before it writes the notice', async () => {
    const adapter = heldPublishAdapter()
    await using server = await startTestServer({ adapter, shutdownSpreadMs: 500 })
    await using alice = await server.connect({ join: 'r' })
    await using bob = await server.connect({ join: 'r' })
    alice.send({ type: 'publish', room: 'r', event: 'e', data: 1, ref: 'inflight' })
    await vi.waitFor(() => expect(adapter.waiting()).toBe(1))
    const closing = server.server.close({ timeoutMs: 2000 })
    // A publish that comes after close() started is refused, not queued behind the one in flight.
    bob.send({ type: 'publish', room: 'r', event: 'e', data: 2, ref: 'after' })
    await expect(bob.next('error')).resolves.toMatchObject({ code: 'unavailable', ref: 'after' })
    expect(alice.received('system')).toEqual([])
    adapter.release()
    await alice.next('system')
    expect(replies(alice.messages)).toEqual(['ack', 'system:shutdown'])
    await bob.next('system')
    expect(replies(bob.messages)).toEqual(['error:unavailable', 'message', 'system:shutdown'])
    await closing
  })

  it('refuses broadcast() with RoomServerError closed from the moment close() starts', async () => {
    await using server = await startTestServer({ shutdownSpreadMs: 200 })
    await using alice = await server.connect({ join: 'r' })
    const closing = server.server.close({ timeoutMs: 1000 })
    const refused = server.server.broadcast('r', 'e', 1)
    await expect(refused).rejects.toBeInstanceOf(RoomServerError)
    await expect(refused).rejects.toMatchObject({ code: 'closed' })
    await closing
    expect(alice.received('message')).toEqual([])
  })

  it('writes the notice to every connection before it closes any, and refuses their publishes', async () => {
    await using server = await startTestServer({ shutdownSpreadMs: 400 })
    const clients = await Promise.all(Array.from({ length: 4 }, () => server.connect({ join: 'r' })))
    const last = clients.at(-1)!
    const closing = server.server.close({ timeoutMs: 2000 })
    await last.next('system')
    last.send({ type: 'publish', room: 'r', event: 'e', data: 1, ref: 1 })
    await expect(last.next('error')).resolves.toMatchObject({ code: 'unavailable', ref: 1 })
    for (const client of clients) {
      expect((await client.closed).code).toBe(1001)
      expect(client.received('system')).toEqual([
        { type: 'system', message: 'server shutting down', code: 'shutdown' },
      ])
    }
    await closing
  })
})
