// @vitest-environment happy-dom
import { useConnectionStatus, useMessages, useRoom } from '@roomwire/react'
import { act, cleanup, fireEvent, renderHook, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestServer } from '../src/index'
import { renderWithRoomwire, roomwireWrapper } from '../src/react'
import { type Chat, chat } from './chat'

afterEach(() => cleanup())

function ChatBox({ room }: { room: string }) {
  const { status, members } = useRoom<Chat>(room, { presence: { name: 'Ann' } })
  const { messages, send } = useMessages<Chat>(room)
  const online = useConnectionStatus((s) => s.status)
  return (
    <div>
      <p>
        {status}, {online}, {members.length} here
      </p>
      <ul>
        {messages.map((m) => (
          <li key={m.key}>{m.data.text}</li>
        ))}
      </ul>
      <button type="button" onClick={() => void send('chat', { text: 'from the button' })}>
        Send
      </button>
    </div>
  )
}

describe('renderWithRoomwire', () => {
  it('renders a component against the test server and shows what another user posts', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using bob = await server.connect({ user: 'bob' })
    await bob.join('general').ready
    const { client } = await renderWithRoomwire(<ChatBox room="general" />, { server, user: 'ann' })
    expect(client.user).toBe('ann')
    await screen.findByText('joined, open, 2 here')
    await bob.room('general').handle.publish('chat', { text: 'hello Ann' })
    await screen.findByText('hello Ann')
  })

  it("records the component's own joins: what it publishes is seen by the test", async () => {
    await using server = await createTestServer({ protocol: chat })
    await using bob = await server.connect({ user: 'bob' })
    await bob.join('general').ready
    const { client } = await renderWithRoomwire(<ChatBox room="general" />, { server, user: 'ann' })
    await screen.findByText(/^joined/)
    await expect(bob.room('general').next('member_joined')).resolves.toMatchObject({
      user: 'ann',
      presence: { name: 'Ann' },
    })
    fireEvent.click(screen.getByRole('button', { name: 'Send' }))
    await expect(bob.room('general').next('chat')).resolves.toMatchObject({
      data: { text: 'from the button' },
    })
    await expect(client.room('general').next('chat')).resolves.toMatchObject({ own: true })
  })

  it('shows a cut connection and the way back', async () => {
    await using server = await createTestServer({ protocol: chat })
    const { client } = await renderWithRoomwire(<ChatBox room="general" />, { server, user: 'ann' })
    await screen.findByText('joined, open, 1 here')
    await act(() => server.cut(client))
    await screen.findByText(/reconnecting/)
    await screen.findByText('joined, open, 1 here')
  })
})

describe('roomwireWrapper', () => {
  it('gives renderHook a provider of the test client', async () => {
    await using server = await createTestServer({ protocol: chat })
    await using ann = await server.connect({ user: 'ann' })
    await using bob = await server.connect({ user: 'bob' })
    const { result } = renderHook(() => useRoom<Chat>('general'), { wrapper: roomwireWrapper(ann) })
    await waitFor(() => expect(result.current.status).toBe('joined'))
    await bob.join('general').ready
    await waitFor(() => expect(result.current.members.map((m) => m.user).sort()).toEqual(['ann', 'bob']))
  })
})
