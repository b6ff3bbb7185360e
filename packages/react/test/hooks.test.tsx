import { type Client, type ClientOptions, createClient } from '@roomwire/client'
import { defineProtocol } from '@roomwire/protocol'
import { act, cleanup, render, renderHook, waitFor } from '@testing-library/react'
import { type ReactNode, StrictMode } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as z from 'zod'
import {
  RoomwireProvider,
  shallowEqual,
  useConnectionStatus,
  useMembers,
  useMessages,
  usePresence,
  useRoom,
  useRoomEvent,
} from '../src/index'
import { scriptedServer, URL } from './support/scripted-server'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }) },
  presence: z.object({ name: z.string(), typing: z.boolean().optional() }),
})
type Chat = typeof chat

const script = scriptedServer()
beforeAll(() => script.server.listen({ onUnhandledRequest: 'error' }))
afterAll(() => script.server.close())

const clients: Client<Chat>[] = []
afterEach(() => {
  cleanup()
  for (const client of clients.splice(0)) client.close()
  script.state.connections.length = 0
  script.state.received.length = 0
  script.state.others.clear()
  script.state.refuse = null
  script.state.seq = 0
})

function newClient(options: Partial<ClientOptions<Chat>> = {}): Client<Chat> {
  const client = createClient({
    url: URL,
    protocol: chat,
    leaveGraceMs: 20,
    logger: { error: () => {} },
    ...options,
  })
  clients.push(client)
  return client
}

function RoomStatus() {
  const { status } = useRoom<Chat>('general', { presence: { name: 'Ada' } })
  return <p>{status}</p>
}

function Status({ renders }: { renders: { count: number } }) {
  renders.count += 1
  return <p>{useConnectionStatus((s) => s.status)}</p>
}

function wrapperFor(client: Client<Chat>) {
  return ({ children }: { children: ReactNode }) => (
    <RoomwireProvider client={client}>{children}</RoomwireProvider>
  )
}

describe('useRoom', () => {
  it('joins on mount and shows the members the server lists, self included', async () => {
    script.state.others.set('general', [{ id: 'c9', presence: { name: 'Bob' } }])
    const { result } = renderHook(() => useRoom<Chat>('general', { presence: { name: 'Ada' } }), {
      wrapper: wrapperFor(newClient()),
    })
    expect(result.current.status).toBe('joining')
    await waitFor(() => expect(result.current.status).toBe('joined'))
    expect(result.current.members.map((m) => m.presence?.name)).toEqual(['Bob', 'Ada'])
    expect(result.current.self?.presence).toEqual({ name: 'Ada' })
    expect(script.sent('join')).toMatchObject([{ room: 'general', presence: { name: 'Ada' } }])
  })

  it('publishes through the server and resolves with the seq from the ack', async () => {
    const { result } = renderHook(() => useRoom<Chat>('general'), { wrapper: wrapperFor(newClient()) })
    await waitFor(() => expect(result.current.status).toBe('joined'))
    await expect(result.current.publish('chat', { text: 'hi' })).resolves.toEqual({ seq: 1 })
    expect(script.sent('publish')).toMatchObject([{ room: 'general', event: 'chat', data: { text: 'hi' } }])
  })

  it('keeps publish and setPresence stable across renders', async () => {
    const { result, rerender } = renderHook(() => useRoom<Chat>('general'), {
      wrapper: wrapperFor(newClient()),
    })
    await waitFor(() => expect(result.current.status).toBe('joined'))
    const { publish, setPresence } = result.current
    rerender()
    expect(result.current.publish).toBe(publish)
    expect(result.current.setPresence).toBe(setPresence)
  })

  it('leaves on the wire after unmount, once the grace period has passed', async () => {
    const { result, unmount } = renderHook(() => useRoom<Chat>('general'), {
      wrapper: wrapperFor(newClient()),
    })
    await waitFor(() => expect(result.current.status).toBe('joined'))
    unmount()
    await waitFor(() => expect(script.sent('leave')).toMatchObject([{ room: 'general' }]))
  })
})

describe('StrictMode', () => {
  it('opens one socket and sends one join for a provider that owns its client', async () => {
    const view = render(
      <StrictMode>
        <RoomwireProvider url={URL} options={{ protocol: chat, leaveGraceMs: 20 }}>
          <RoomStatus />
        </RoomwireProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(view.getByText('joined')).toBeTruthy())
    // Give a second socket or join every chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(script.state.connections).toHaveLength(1)
    expect(script.sent('join')).toHaveLength(1)
    expect(script.sent('leave')).toHaveLength(0)
  })

  it('leaves nothing open after unmount: the owned client closes its socket', async () => {
    const view = render(
      <StrictMode>
        <RoomwireProvider url={URL} options={{ protocol: chat, leaveGraceMs: 20 }}>
          <RoomStatus />
        </RoomwireProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(view.getByText('joined')).toBeTruthy())
    view.unmount()
    await waitFor(() => expect(script.openConnections()).toHaveLength(0))
  })
})

describe('useMessages', () => {
  it('lists an own message as sending, then delivered at the ack, with a stable key', async () => {
    const { result } = renderHook(
      () => ({ room: useRoom<Chat>('general'), log: useMessages<Chat>('general') }),
      { wrapper: wrapperFor(newClient()) },
    )
    await waitFor(() => expect(result.current.room.status).toBe('joined'))
    let sending: Promise<void> = Promise.resolve()
    act(() => {
      sending = result.current.log.send('chat', { text: 'hello' })
    })
    expect(result.current.log.messages).toMatchObject([
      { status: 'sending', own: true, data: { text: 'hello' } },
    ])
    const key = result.current.log.messages[0]?.key
    await act(() => sending)
    await waitFor(() =>
      expect(result.current.log.messages).toMatchObject([{ status: 'delivered', seq: 1, key }]),
    )
  })

  it('lists messages from others as received, in order, up to the limit', async () => {
    const { result } = renderHook(
      () => ({ room: useRoom<Chat>('general'), log: useMessages<Chat>('general', { limit: 2 }) }),
      { wrapper: wrapperFor(newClient()) },
    )
    await waitFor(() => expect(result.current.room.status).toBe('joined'))
    for (const seq of [1, 2, 3]) {
      script.last().send({
        type: 'message',
        room: 'general',
        event: 'chat',
        data: { text: `m${seq}` },
        from: 'c9',
        seq,
        ts: seq,
      })
    }
    await waitFor(() =>
      expect(result.current.log.messages.map((m) => [m.status, m.data.text])).toEqual([
        ['received', 'm2'],
        ['received', 'm3'],
      ]),
    )
  })

  it('shows a refused message as failed with the server code, and retries it', async () => {
    const { result } = renderHook(
      () => ({ room: useRoom<Chat>('general'), log: useMessages<Chat>('general') }),
      { wrapper: wrapperFor(newClient()) },
    )
    await waitFor(() => expect(result.current.room.status).toBe('joined'))
    // A final refusal (rate_limited and unavailable are retried by the client, PROTOCOL.md "Errors").
    script.state.refuse = 'forbidden'
    await act(() => result.current.log.send('chat', { text: 'not allowed' }))
    expect(result.current.log.messages).toMatchObject([{ status: 'failed', error: { code: 'forbidden' } }])
    const key = result.current.log.messages[0]?.key as string
    act(() => result.current.log.retry(key))
    await waitFor(() => expect(result.current.log.messages).toMatchObject([{ status: 'delivered', seq: 1 }]))
  })
})

describe('useMembers', () => {
  it('re-renders only when the selected slice changes', async () => {
    script.state.others.set('general', [{ id: 'c9', presence: { name: 'Bob' } }])
    let renders = 0
    const { result } = renderHook(
      () => {
        renders += 1
        return useMembers<Chat, string[]>(
          'general',
          (members) => members.map((m) => m.presence?.name ?? '?'),
          shallowEqual,
        )
      },
      { wrapper: wrapperFor(newClient()) },
    )
    await waitFor(() => expect(result.current).toEqual(['Bob', '?']))
    const before = renders
    // Bob starts typing: members change, the selected names do not.
    act(() =>
      script
        .last()
        .send({ type: 'presence', room: 'general', id: 'c9', state: { name: 'Bob', typing: true } }),
    )
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(renders).toBe(before)
    // Carol joins: the names change.
    act(() =>
      script
        .last()
        .send({ type: 'member_joined', room: 'general', member: { id: 'c10', presence: { name: 'Carol' } } }),
    )
    await waitFor(() => expect(result.current).toEqual(['Bob', '?', 'Carol']))
    expect(renders).toBe(before + 1)
  })
})

describe('useRoomEvent', () => {
  it('runs the latest handler without resubscribing', async () => {
    const seen: string[] = []
    const { rerender } = renderHook(
      ({ tag }: { tag: string }) => {
        useRoom<Chat>('general')
        useRoomEvent<Chat, 'chat'>('general', 'chat', (data, meta) =>
          seen.push(`${tag}:${data.text}:${meta.seq}`),
        )
      },
      { wrapper: wrapperFor(newClient()), initialProps: { tag: 'first' } },
    )
    await waitFor(() => expect(script.sent('join')).toHaveLength(1))
    rerender({ tag: 'second' })
    act(() =>
      script.last().send({
        type: 'message',
        room: 'general',
        event: 'chat',
        data: { text: 'x' },
        from: 'c9',
        seq: 1,
        ts: 1,
      }),
    )
    await waitFor(() => expect(seen).toEqual(['second:x:1']))
  })
})

describe('usePresence', () => {
  it("reads and sets this connection's presence", async () => {
    const { result } = renderHook(() => usePresence<Chat>('general'), { wrapper: wrapperFor(newClient()) })
    await waitFor(() => expect(script.sent('join')).toHaveLength(1))
    await act(() => result.current[1]({ name: 'Ada', typing: true }))
    expect(result.current[0]).toEqual({ name: 'Ada', typing: true })
    expect(script.sent('presence')).toMatchObject([{ room: 'general', state: { name: 'Ada', typing: true } }])
  })
})

describe('useConnectionStatus', () => {
  it('goes connecting, open, then reconnecting with a retry time when the server drops the connection', async () => {
    // A fixed jitter draw makes the wait before the retry 300 ms, long enough to observe.
    const client = newClient({ random: () => 1 - Number.EPSILON, reconnect: { initialMs: 300 } })
    const { result } = renderHook(() => useConnectionStatus(), { wrapper: wrapperFor(client) })
    await waitFor(() => expect(result.current.status).toBe('open'))
    expect(result.current.id).toBe('c1')
    act(() => script.last().close(1012, 'restarting'))
    await waitFor(() => expect(result.current.status).toBe('reconnecting'))
    expect(result.current.retryAt).toBeGreaterThan(Date.now() - 1)
    await waitFor(() => expect(result.current.status).toBe('open'))
  })

  it('re-renders a component that selects the status only when the status changes', async () => {
    const renders = { count: 0 }
    const client = newClient()
    const view = render(
      <RoomwireProvider client={client}>
        <Status renders={renders} />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(view.getByText('open')).toBeTruthy())
    const before = renders.count
    // Joining a room changes nothing the component selected.
    const room = client.join('general')
    await room.ready
    expect(renders.count).toBe(before)
    room.leave()
  })

  it('throws a helpful error outside a provider', () => {
    expect(() => renderHook(() => useConnectionStatus())).toThrow(/Wrap your components in <RoomwireProvider/)
  })
})
