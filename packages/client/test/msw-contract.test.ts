import { decodeClientMessage, encode } from '@roomwire/protocol'
import { ws } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createClient } from '../src/index'

const link = ws.link('ws://roomwire.test/ws')
const server = setupServer()
beforeAll(() => server.listen())
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const welcome = encode({
  type: 'welcome',
  id: 'c_msw',
  protocol: 1,
  heartbeat: { interval: 30_000, timeout: 10_000 },
  limits: { maxMessageBytes: 65_536, maxRoomsPerConnection: 10 },
})

describe('protocol contract (msw plays the server)', () => {
  it('finds the WebSocket msw installed at connect time, sends valid frames and reads the replies', async () => {
    const received: string[] = []
    server.use(
      link.addEventListener('connection', ({ client }) => {
        client.send(welcome)
        client.addEventListener('message', (event) => {
          const decoded = decodeClientMessage(event.data as string)
          if (!decoded.success) throw new Error(decoded.error.message)
          const m = decoded.data
          received.push(m.type)
          if (m.type === 'join') {
            client.send(
              encode({
                type: 'joined',
                room: m.room,
                seq: 0,
                epoch: 'e1',
                members: [{ id: 'c_msw', user: 'ada' }],
                ...(m.ref === undefined ? {} : { ref: m.ref }),
              }),
            )
          }
          if (m.type === 'publish' && m.ref !== undefined)
            client.send(encode({ type: 'ack', ref: m.ref, seq: 1 }))
        })
      }),
    )
    const client = createClient({ url: 'ws://roomwire.test/ws' })
    const room = client.join('general')
    await room.ready
    expect(client.getSnapshot()).toMatchObject({ status: 'open', id: 'c_msw' })
    expect(room.members).toEqual([{ id: 'c_msw', user: 'ada' }])
    await expect(room.publish('chat', { text: 'hi' })).resolves.toEqual({ seq: 1 })
    expect(received).toEqual(['join', 'publish'])
    client.close()
  })

  it('reconnects after the server closes with 1012 and rejoins with since', async () => {
    const joins: unknown[] = []
    let connections = 0
    server.use(
      link.addEventListener('connection', ({ client }) => {
        connections++
        client.send(welcome)
        client.addEventListener('message', (event) => {
          const m = JSON.parse(event.data as string)
          if (m.type !== 'join') return
          joins.push({ since: m.since, epoch: m.epoch })
          client.send(encode({ type: 'joined', room: m.room, seq: 3, epoch: 'e1', members: [], ref: m.ref }))
          if (connections === 1) setTimeout(() => client.close(1012, 'restart'), 20)
        })
      }),
    )
    const client = createClient({ url: 'ws://roomwire.test/ws', reconnect: { initialMs: 20 } })
    client.join('r')
    await vi.waitFor(() => expect(joins).toHaveLength(2))
    expect(joins).toEqual([
      { since: undefined, epoch: undefined },
      { since: 3, epoch: 'e1' },
    ])
    expect(client.getSnapshot().closeCode).toBe(1012)
    client.close()
  })
})
