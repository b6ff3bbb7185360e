import {
  type CancelMessage,
  decodeClientMessage,
  defineProtocol,
  encode,
  type RequestMessage,
} from '@roomwire/protocol'
import { ws } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import { type Clock, createClient, RoomwireError } from '../src/index'

const link = ws.link('ws://roomwire.test/ws')
const server = setupServer()
beforeAll(() => server.listen())
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const app = defineProtocol({
  requests: {
    createRoom: {
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ id: z.string(), at: z.string().transform((s) => new Date(s)) }),
      errors: ['name_taken'],
    },
    listRooms: { input: z.void(), output: z.array(z.string()) },
    claim: { input: z.object({ seat: z.int() }), output: z.object({ ok: z.boolean() }), idempotent: true },
    rename: { input: z.object({ to: z.string() }), output: z.null(), room: true },
  },
})

type Socket = { send(data: string): void; close(code?: number, reason?: string): void }

/** A clock that moves only when told: request timeouts are exact, and nothing else times out meanwhile. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0
  let timers: { at: number; run: () => void }[] = []
  return {
    now: () => now,
    setTimeout(run, ms) {
      const timer = { at: now + ms, run }
      timers.push(timer)
      return timer
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t !== handle)
    },
    advance(ms) {
      now += ms
      const due = timers.filter((t) => t.at <= now)
      timers = timers.filter((t) => t.at > now)
      for (const t of due) t.run()
    },
  }
}

/**
 * msw plays the server: every connection gets `welcome` (with `limits`), joins are answered, and each
 * `request` is handed to `onRequest` with the socket to answer on. Returns what the server read: the
 * requests, and the cancels among the frames in the order read (`frames`).
 */
function script(
  onRequest: (m: RequestMessage, socket: Socket, connection: number) => void,
  limits: Record<string, number> = {},
) {
  const requests: RequestMessage[] = []
  const cancels: CancelMessage[] = []
  const frames: string[] = []
  const sockets: Socket[] = []
  server.use(
    link.addEventListener('connection', ({ client }) => {
      const connection = sockets.length
      sockets.push(client)
      client.send(
        encode({
          type: 'welcome',
          id: `c_${connection}`,
          protocol: 1,
          heartbeat: { interval: 30_000, timeout: 10_000 },
          limits: { maxMessageBytes: 65_536, maxRoomsPerConnection: 10, ...limits },
        }),
      )
      client.addEventListener('message', (event) => {
        const decoded = decodeClientMessage(event.data as string)
        if (!decoded.success) throw new Error(decoded.error.message)
        const m = decoded.data
        frames.push(m.type === 'request' ? `request:${m.ref}` : m.type)
        if (m.type === 'cancel') cancels.push(m)
        if (m.type === 'join') {
          client.send(encode({ type: 'joined', room: m.room, seq: 0, epoch: 'e1', members: [], ref: m.ref }))
        }
        if (m.type === 'request') {
          requests.push(m)
          onRequest(m, client, connection)
        }
      })
    }),
  )
  return { requests, cancels, frames, sockets }
}

function connect(clock?: Clock) {
  return createClient({
    url: 'ws://roomwire.test/ws',
    protocol: app,
    reconnect: { initialMs: 1, maxMs: 1 },
    ...(clock === undefined ? {} : { clock }),
  })
}

/** Handlers, listeners and pending requests the client holds (an internal count, for leak checks). */
function held(client: object): number {
  return (client as { handlerCount: number }).handlerCount
}

async function rejection(promise: Promise<unknown>): Promise<RoomwireError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RoomwireError)
  return error as RoomwireError
}

describe('client.request', () => {
  it('sends one request frame and resolves to the output its schema parsed', async () => {
    const wire = script((m, socket) =>
      socket.send(encode({ type: 'reply', ref: m.ref, output: { id: 'r_1', at: '2026-01-01T00:00:00Z' } })),
    )
    const client = connect()
    const out = await client.request('createRoom', { name: 'lobby' })
    expect(out).toEqual({ id: 'r_1', at: new Date('2026-01-01T00:00:00Z') })
    expect(wire.requests).toEqual([
      { type: 'request', name: 'createRoom', input: { name: 'lobby' }, id: expect.any(String), ref: 'q1' },
    ])
    expect(held(client)).toBe(0)
    client.close()
  })

  it('sends no input for a request that takes none', async () => {
    const wire = script((m, socket) => socket.send(encode({ type: 'reply', ref: m.ref, output: ['a'] })))
    const client = connect()
    await expect(client.request('listRooms')).resolves.toEqual(['a'])
    expect(wire.requests[0]).not.toHaveProperty('input')
    client.close()
  })

  it('rejects with the declared code of an application refusal', async () => {
    script((m, socket) =>
      socket.send(
        encode({ type: 'reply', ref: m.ref, error: { code: 'name_taken', message: 'That name is taken' } }),
      ),
    )
    const client = connect()
    const error = await rejection(client.request('createRoom', { name: 'lobby' }))
    expect(error).toMatchObject({ code: 'name_taken', message: 'That name is taken' })
    client.close()
  })

  it('reads a refusal code the request does not declare as internal', async () => {
    script((m, socket) =>
      socket.send(encode({ type: 'reply', ref: m.ref, error: { code: 'oops', message: 'm' } })),
    )
    const client = connect()
    expect(await rejection(client.request('createRoom', { name: 'lobby' }))).toMatchObject({
      code: 'internal',
    })
    client.close()
  })

  it('rejects with the code of a protocol refusal that carries its ref', async () => {
    script((m, socket) =>
      socket.send(
        encode({ type: 'error', code: 'timeout', message: 'the handler took too long', ref: m.ref }),
      ),
    )
    const client = connect()
    const errors: unknown[] = []
    client.on('error', (e) => errors.push(e))
    expect(await rejection(client.request('createRoom', { name: 'lobby' }))).toMatchObject({
      code: 'timeout',
    })
    expect(errors).toEqual([])
    client.close()
  })

  it('refuses an output its schema refuses with bad_frame', async () => {
    script((m, socket) => socket.send(encode({ type: 'reply', ref: m.ref, output: { id: 5 } })))
    const client = connect()
    const error = await rejection(client.request('createRoom', { name: 'lobby' }))
    expect(error.code).toBe('bad_frame')
    expect(error.message).toContain('output.id')
    client.close()
  })

  it('refuses an input its schema refuses before sending anything', async () => {
    const wire = script((m, socket) => socket.send(encode({ type: 'reply', ref: m.ref, output: [] })))
    const client = connect()
    // @ts-expect-error name must be a string
    const error = await rejection(client.request('createRoom', { name: 5 }))
    expect(error).toMatchObject({ code: 'invalid_event', message: 'input.name: must be a string' })
    await client.request('listRooms')
    expect(wire.requests.map((r) => r.name)).toEqual(['listRooms'])
    client.close()
  })

  it('waits for the connection when called before it opened', async () => {
    const wire = script((m, socket) => socket.send(encode({ type: 'reply', ref: m.ref, output: ['x'] })))
    const client = connect()
    expect(client.status).toBe('connecting')
    await expect(client.request('listRooms')).resolves.toEqual(['x'])
    expect(wire.requests).toHaveLength(1)
    client.close()
  })

  it('fails at once with disconnected when asked to while offline', async () => {
    const wire = script(() => {})
    const client = connect()
    const error = await rejection(client.request('listRooms', undefined, { whenOffline: 'fail' }))
    expect(error.code).toBe('disconnected')
    expect(wire.requests).toHaveLength(0)
    client.close()
  })

  it('times out after timeoutMs from the call, and drops a late answer', async () => {
    const clock = manualClock()
    let late: (() => void) | undefined
    script((m, socket) => {
      const answer = () => socket.send(encode({ type: 'reply', ref: m.ref, output: ['late'] }))
      if (late === undefined) late = answer
      else answer()
    })
    const client = connect(clock)
    const errors: unknown[] = []
    client.on('error', (e) => errors.push(e))
    const idle = held(client)
    const pending = client.request('listRooms', undefined, { timeoutMs: 2_000 })
    await vi.waitFor(() => expect(late).toBeDefined())
    clock.advance(1_999)
    expect(held(client)).toBe(idle + 1)
    clock.advance(1)
    expect(await rejection(pending)).toMatchObject({ code: 'timeout' })
    expect(held(client)).toBe(idle)
    late?.()
    // Frames arrive in order: once the next answer is in, the late one was read and dropped.
    await expect(client.request('listRooms')).resolves.toEqual(['late'])
    expect(errors).toEqual([])
    expect(held(client)).toBe(idle)
    client.close()
  })

  it('rejects with aborted when its signal aborts, and at once for an aborted signal', async () => {
    script(() => {})
    const client = connect()
    const controller = new AbortController()
    const pending = client.request('listRooms', undefined, { signal: controller.signal })
    controller.abort(new Error('unmounted'))
    const error = await rejection(pending)
    expect(error.code).toBe('aborted')
    expect(error.cause).toEqual(new Error('unmounted'))
    expect(
      (await rejection(client.request('listRooms', undefined, { signal: controller.signal }))).code,
    ).toBe('aborted')
    expect(held(client)).toBe(0)
    client.close()
  })

  it('sends a cancel with the request id when its signal aborts after it was sent', async () => {
    const wire = script(() => {})
    const client = connect()
    const controller = new AbortController()
    const pending = client.request('listRooms', undefined, { signal: controller.signal })
    await vi.waitFor(() => expect(wire.requests).toHaveLength(1))
    controller.abort()
    expect((await rejection(pending)).code).toBe('aborted')
    await vi.waitFor(() => expect(wire.cancels).toEqual([{ type: 'cancel', id: wire.requests[0]?.id }]))
    client.close()
  })

  it('sends a cancel when its timeout passes after it was sent, before the request its slot lets go', async () => {
    const clock = manualClock()
    const wire = script(() => {}, { maxRequestsInFlight: 1 })
    const client = connect(clock)
    const first = client.request('listRooms', undefined, { timeoutMs: 1_000 })
    const second = client.request('listRooms', undefined, { timeoutMs: 5_000 })
    await vi.waitFor(() => expect(wire.requests).toHaveLength(1))
    clock.advance(1_000)
    expect((await rejection(first)).code).toBe('timeout')
    await vi.waitFor(() => expect(wire.requests).toHaveLength(2))
    // The server frees the slot before it reads the next request.
    expect(wire.frames.slice(-3)).toEqual(['request:q1', 'cancel', 'request:q2'])
    expect(wire.cancels).toEqual([{ type: 'cancel', id: wire.requests[0]?.id }])
    client.close()
    await rejection(second)
  })

  it('sends no cancel for a request that was never sent', async () => {
    const answers: (() => void)[] = []
    const wire = script(
      (m, socket) => answers.push(() => socket.send(encode({ type: 'reply', ref: m.ref, output: [] }))),
      { maxRequestsInFlight: 1 },
    )
    const client = connect()
    const controller = new AbortController()
    const first = client.request('listRooms')
    const held = client.request('listRooms', undefined, { signal: controller.signal })
    await vi.waitFor(() => expect(answers).toHaveLength(1))
    controller.abort()
    expect((await rejection(held)).code).toBe('aborted')
    answers[0]?.()
    await first
    // A later request is read after anything the abort could have written.
    const last = client.request('listRooms')
    await vi.waitFor(() => expect(answers).toHaveLength(2))
    answers[1]?.()
    await last
    expect(wire.frames).toEqual(['request:q1', 'request:q2'])
    client.close()
  })

  it('rejects what is pending with closed on close()', async () => {
    script(() => {})
    const client = connect()
    const pending = client.request('listRooms')
    client.close()
    expect((await rejection(pending)).code).toBe('closed')
    expect(held(client)).toBe(0)
  })
})

describe('across a reconnect', () => {
  it('fails a request sent on a connection that dropped with disconnected, and never sends it again', async () => {
    const wire = script((_m, socket, connection) => {
      if (connection === 0) socket.close(1012, 'restart')
    })
    const client = connect()
    const error = await rejection(client.request('createRoom', { name: 'lobby' }))
    expect(error.code).toBe('disconnected')
    await vi.waitFor(() => expect(client.status).toBe('open'))
    expect(wire.requests).toHaveLength(1)
    client.close()
  })

  it('sends an idempotent request again on the next connection with the same id', async () => {
    const wire = script((m, socket, connection) => {
      if (connection === 0) socket.close(1012, 'restart')
      else socket.send(encode({ type: 'reply', ref: m.ref, output: { ok: true } }))
    })
    const client = connect()
    await expect(client.request('claim', { seat: 3 })).resolves.toEqual({ ok: true })
    expect(wire.requests).toHaveLength(2)
    expect(wire.requests[1]?.id).toBe(wire.requests[0]?.id)
    expect(wire.requests[1]?.ref).not.toBe(wire.requests[0]?.ref)
    client.close()
  })
})

describe('bounds', () => {
  it('sends at most maxRequestsInFlight at once; the next goes when an answer came', async () => {
    const answers: (() => void)[] = []
    const wire = script(
      (m, socket) => answers.push(() => socket.send(encode({ type: 'reply', ref: m.ref, output: [] }))),
      { maxRequestsInFlight: 2 },
    )
    const client = connect()
    const calls = [client.request('listRooms'), client.request('listRooms'), client.request('listRooms')]
    await vi.waitFor(() => expect(wire.requests).toHaveLength(2))
    answers[0]?.()
    await vi.waitFor(() => expect(wire.requests).toHaveLength(3))
    for (const answer of answers.slice(1)) answer()
    await expect(Promise.all(calls)).resolves.toEqual([[], [], []])
    client.close()
  })

  it.each(['too_many_requests', 'rate_limited'])(
    'sends a request refused with %s again after a backoff (nothing ran)',
    async (code) => {
      const wire = script((m, socket) => {
        if (wire.requests.length === 1)
          socket.send(encode({ type: 'error', code: code as 'rate_limited', message: 'busy', ref: m.ref }))
        else socket.send(encode({ type: 'reply', ref: m.ref, output: { id: 'r', at: '2026-01-01' } }))
      })
      const client = connect()
      await expect(client.request('createRoom', { name: 'a' })).resolves.toMatchObject({ id: 'r' })
      expect(wire.requests).toHaveLength(2)
      client.close()
    },
  )

  it('sends an idempotent request refused with unavailable again, and fails any other with it', async () => {
    const wire = script((m, socket) => {
      if (wire.requests.filter((r) => r.name === m.name).length === 1)
        socket.send(encode({ type: 'error', code: 'unavailable', message: 'store down', ref: m.ref }))
      else socket.send(encode({ type: 'reply', ref: m.ref, output: { ok: true } }))
    })
    const client = connect()
    await expect(client.request('claim', { seat: 1 })).resolves.toEqual({ ok: true })
    expect((await rejection(client.request('createRoom', { name: 'a' }))).code).toBe('unavailable')
    client.close()
  })

  it('refuses an input too large for the server before sending it', async () => {
    const wire = script(() => {}, { maxMessageBytes: 200 })
    const client = connect()
    await vi.waitFor(() => expect(client.status).toBe('open'))
    const error = await rejection(client.request('createRoom', { name: 'x'.repeat(300) }))
    expect(error.code).toBe('too_large')
    expect(wire.requests).toHaveLength(0)
    client.close()
  })
})

describe('room.request', () => {
  it('is sent once the room is joined, naming the room', async () => {
    const wire = script((m, socket) => socket.send(encode({ type: 'reply', ref: m.ref, output: null })))
    const client = connect()
    const room = client.join('lobby')
    await expect(room.request('rename', { to: 'hall' })).resolves.toBeNull()
    expect(wire.requests[0]).toMatchObject({ name: 'rename', room: 'lobby', input: { to: 'hall' } })
    client.close()
  })

  it('fails with left when the room is left before it could go', async () => {
    script(() => {})
    const client = createClient({ url: 'ws://roomwire.test/ws', protocol: app, leaveGraceMs: 0 })
    const room = client.join('lobby')
    const pending = room.request('rename', { to: 'hall' })
    room.leave()
    expect((await rejection(pending)).code).toBe('left')
    client.close()
  })
})
