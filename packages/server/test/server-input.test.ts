import { defineProtocol } from '@roomwire/protocol'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { RoomServerError } from '../src/index'
import { startTestServer } from './helpers'

// The server's own entry points obey the bounds of client frames (issue 12): the admin broadcast and
// broadcast() used to let a message nested 20,000 levels deep into history.

function deepValue(depth: number): unknown {
  let value: unknown = 0
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

const auth = { authorization: 'Bearer admin-secret' }

describe('broadcast and the direct sends', () => {
  it('refuse data nested 20,000 levels deep with invalid_argument, and nothing enters history', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    const deep = deepValue(20_000)
    await expect(server.server.broadcast('r', 'e', deep)).rejects.toMatchObject({
      code: 'invalid_argument',
      message: 'data: must not nest more than 32 levels deep',
    })
    for (const send of [
      () => server.server.broadcastAll('e', deep),
      () => server.server.broadcastTo([alice.id], 'e', deep),
      () => server.server.broadcastExcept([], 'e', deep),
      () => server.server.sendDirect(alice.id, 'e', deep),
    ]) {
      await expect(send()).rejects.toMatchObject({ code: 'invalid_argument' })
    }
    expect((await server.server.roomInfo('r'))?.seq).toBe(0)
    await using late = await server.connect()
    await expect(late.request({ type: 'join', room: 'r', history: 100 })).resolves.toMatchObject({
      type: 'joined',
      seq: 0,
    })
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
    expect(alice.received('direct')).toEqual([])
  })

  it('accept data nested exactly maxNestingDepth levels', async () => {
    await using server = await startTestServer({ maxNestingDepth: 8 })
    await using alice = await server.connect({ join: 'r' })
    await expect(server.server.broadcast('r', 'e', deepValue(8))).resolves.toEqual({ seq: 1 })
    await expect(server.server.broadcast('r', 'e', deepValue(9))).rejects.toThrow(
      'data: must not nest more than 8 levels deep',
    )
    await expect(alice.next('message')).resolves.toMatchObject({ seq: 1 })
  })

  it('refuse data over maxMessageBytes as JSON, naming its size', async () => {
    await using server = await startTestServer({ maxMessageBytes: 1024 })
    await expect(server.server.broadcast('r', 'e', 'é'.repeat(600))).rejects.toThrow(
      'data: is 1202 bytes as JSON, over the limit of 1024',
    )
    await expect(server.server.broadcastAll('e', { text: 'x'.repeat(2000) })).rejects.toMatchObject({
      code: 'invalid_argument',
    })
  })

  it('refuse data that is not JSON: undefined, a cycle, a BigInt, a function', async () => {
    await using server = await startTestServer()
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    for (const data of [undefined, cycle, 10n, () => 1]) {
      await expect(server.server.broadcast('r', 'e', data)).rejects.toBeInstanceOf(RoomServerError)
    }
    await expect(server.server.broadcast('r', 'e', null)).resolves.toEqual({ seq: 1 })
  })

  it('refuse a toJSON that expands past the depth bound', async () => {
    await using server = await startTestServer()
    const sneaky = { toJSON: () => deepValue(100) }
    await expect(server.server.broadcast('r', 'e', sneaky)).rejects.toThrow(
      'data: must not nest more than 32 levels deep',
    )
  })

  it('check the value the application schema returns as well as the one it was given', async () => {
    const protocol = defineProtocol({ events: { grow: z.any().transform(() => deepValue(50)) } })
    await using server = await startTestServer({ protocol })
    await expect(server.server.broadcast('r', 'grow', 1)).rejects.toThrow('must not nest more than 32')
  })

  it('word errors about a caller’s strings and values with bounded excerpts', async () => {
    await using server = await startTestServer()
    const huge = 'a b'.repeat(40_000)
    const errors = await Promise.all([
      server.server.broadcast(huge, 'e', 1).catch((e: Error) => e),
      server.server.broadcast('r', huge, 1).catch((e: Error) => e),
      server.server.sendDirect(huge, 'e', 1).catch((e: Error) => e),
      server.server.broadcastTo([huge], 'e', 1).catch((e: Error) => e),
      server.server.broadcastTo(huge as unknown as string[], 'e', 1).catch((e: Error) => e),
      server.server
        .broadcast({ deep: deepValue(10_000) } as unknown as string, 'e', 1)
        .catch((e: Error) => e),
    ])
    for (const error of errors) {
      expect(error).toBeInstanceOf(RoomServerError)
      expect((error as RoomServerError).code).toBe('invalid_argument')
      expect((error as Error).message.length).toBeLessThan(200)
    }
    expect((errors[0] as Error).message).toBe(
      `room ${JSON.stringify(`${huge.slice(0, 32)}…`)} must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @`,
    )
    expect((errors[5] as Error).message).toContain('room an object must be')
  })

  it('answer roomInfo of a name no room can have with null', async () => {
    await using server = await startTestServer()
    await expect(server.server.roomInfo('a b'.repeat(1000))).resolves.toBeNull()
  })
})

describe('the admin broadcast', () => {
  it('answers a body nested 20,000 levels deep with 400 before parsing it, and nothing enters history', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret' })
    await using alice = await server.connect({ join: 'r' })
    const body = `{"event":"e","data":${'['.repeat(20_000)}0${']'.repeat(20_000)}}`
    const res = await fetch(`${server.httpUrl}/rooms/r/broadcast`, { method: 'POST', headers: auth, body })
    expect(res.status).toBe(400)
    await expect(res.json()).resolves.toEqual({ error: 'data: must not nest more than 32 levels deep' })
    expect((await server.server.roomInfo('r'))?.seq).toBe(0)
    await expect(alice.request({ type: 'ping' })).resolves.toMatchObject({ type: 'pong' })
    expect(alice.received('message')).toEqual([])
  })

  it('answers data that fits the body but not the bounds with 400 naming the bound', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret', maxNestingDepth: 3 })
    const res = await fetch(`${server.httpUrl}/rooms/r/broadcast`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ event: 'e', data: [[[[1]]]] }),
    })
    expect(res.status).toBe(400)
    await expect(res.json()).resolves.toEqual({ error: 'data: must not nest more than 3 levels deep' })
  })
})
