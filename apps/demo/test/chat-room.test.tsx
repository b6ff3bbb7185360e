// @vitest-environment happy-dom
import { useConnectionStatus } from '@roomwire/react'
import { createTestServer, type TestServer } from '@roomwire/testing'
import { renderWithRoomwire } from '@roomwire/testing/react'
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ChatRoom } from '../src/chat-room'
import { ConnectionBanner } from '../src/connection-banner'
import { type Chat, chat, type Person } from '../src/protocol'

// Component tests: the demo's room, rendered in happy-dom against a real roomwire server (the testing
// kit's), with a second person as a test client. The e2e tests cover the whole app in Chromium.

const ann: Person = { uid: 'ann-0000-uid', name: 'Ann' }
const bob: Person = { uid: 'bob-0000-uid', name: 'Bob' }

afterEach(() => {
  cleanup()
  localStorage.clear()
})

/** The room as the app shows it: with the connection banner, and `online` from the client. */
function Room() {
  const online = useConnectionStatus((s) => s.status === 'open')
  return (
    <>
      <ConnectionBanner />
      <ChatRoom
        room="general"
        me={ann}
        active
        online={online}
        unreadElsewhere={0}
        onUnread={() => {}}
        onMenu={() => {}}
      />
    </>
  )
}

/** Bob in #general, and Ann's room rendered once both are there. */
async function annAndBob(server: TestServer<Chat>) {
  const other = await server.connect({ user: 'bob' })
  await other.join('general', { presence: bob }).ready
  const rendered = await renderWithRoomwire(<Room />, { server, user: 'ann' })
  await screen.findByText('2 people here')
  return { bob: other, ann: rendered.client }
}

const room = () => within(screen.getByRole('region', { name: 'Room general' }))

describe('the chat room', () => {
  it("shows another person's message under their name", async () => {
    await using server = await createTestServer({ protocol: chat })
    const { bob: other } = await annAndBob(server)
    await other.room('general').handle.publish('chat', { text: 'hello Ann', author: bob })
    const text = await room().findByText('hello Ann')
    expect(text.closest('li')?.querySelector('.author')?.textContent).toBe('Bob')
  })

  it('scrolls back: Show earlier messages pages in what the join did not replay, once each, in order', async () => {
    await using server = await createTestServer({ protocol: chat })
    const other = await server.connect({ user: 'bob' })
    const general = other.join('general', { presence: bob })
    await general.ready
    // The room joins with the last 30 (HISTORY in chat-room.tsx); the server holds all 45.
    for (let i = 1; i <= 45; i++) await general.publish('chat', { text: `m${i}`, author: bob })
    await renderWithRoomwire(<Room />, { server, user: 'ann' })
    const shown = () => [...document.querySelectorAll('.message .text')].map((el) => el.textContent)
    await room().findByText('m45')
    expect(shown()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 16}`))
    fireEvent.click(room().getByRole('button', { name: 'Show earlier messages' }))
    await room().findByText('m1')
    expect(shown()).toEqual(Array.from({ length: 45 }, (_, i) => `m${i + 1}`))
    // Nothing older is left: the button goes away.
    await expect.poll(() => room().queryByRole('button', { name: 'Show earlier messages' })).toBeNull()
  })

  it('shows a New line before what came while Ann was away, when she opens the room again', async () => {
    await using server = await createTestServer({ protocol: chat })
    const other = await server.connect({ user: 'bob' })
    const general = other.join('general', { presence: bob })
    await general.ready
    await general.publish('chat', { text: 'seen 1', author: bob })
    await renderWithRoomwire(<Room />, { server, user: 'ann' })
    await room().findByText('seen 1')
    // Read while on screen, and kept for the next visit (a first visit counts the history as read).
    await general.publish('chat', { text: 'seen 2', author: bob })
    await room().findByText('seen 2')
    await expect.poll(() => localStorage.getItem('roomwire-demo:read:general')).not.toBeNull()
    cleanup()

    await general.publish('chat', { text: 'missed 1', author: bob })
    await general.publish('chat', { text: 'missed 2', author: bob })
    // Back, with the room on screen from the first render (a reload): the history arrives after it.
    await renderWithRoomwire(<Room />, { server, user: 'ann' })
    await room().findByText('missed 2')
    const order = () =>
      [...document.querySelectorAll('.messages li')].map((li) =>
        li.classList.contains('divider') ? 'New' : li.querySelector('.text')?.textContent,
      )
    await expect.poll(order).toEqual(['seen 1', 'seen 2', 'New', 'missed 1', 'missed 2'])
    // What comes in while the room is on screen is read as it comes: the line stays where it was.
    await general.publish('chat', { text: 'live', author: bob })
    await room().findByText('live')
    expect(order()).toEqual(['seen 1', 'seen 2', 'New', 'missed 1', 'missed 2', 'live'])
  })

  it('sends what Ann writes, with her as the author, and marks it delivered', async () => {
    await using server = await createTestServer({ protocol: chat })
    const { bob: other } = await annAndBob(server)
    const box = room().getByPlaceholderText('Message #general')
    fireEvent.change(box, { target: { value: '  hi Bob  ' } })
    fireEvent.keyDown(box, { key: 'Enter' })
    await expect(other.room('general').next('chat')).resolves.toMatchObject({
      data: { text: 'hi Bob', author: ann },
    })
    await room().findByText('Delivered')
  })

  it('tells the others that Ann is typing, and shows when Bob is', async () => {
    await using server = await createTestServer({ protocol: chat })
    const { bob: other } = await annAndBob(server)
    fireEvent.change(room().getByPlaceholderText('Message #general'), { target: { value: 'draft' } })
    await expect(
      other.room('general').next('presence', { where: (m) => m.presence?.typing === true }),
    ).resolves.toMatchObject({ user: 'ann', presence: { name: 'Ann', typing: true } })
    await other.room('general').handle.setPresence({ ...bob, typing: true })
    await room().findByText('Bob is typing…')
  })

  it('says when the connection drops with no close frame, and when it is back', async () => {
    await using server = await createTestServer({ protocol: chat })
    const { ann: client } = await annAndBob(server)
    await act(() => server.cut(client))
    expect(screen.getByRole('status').textContent).toBe(
      'Connection lost. What you write is sent when it is back.',
    )
    await screen.findByText('Connected.')
    await screen.findByText('2 people here')
  })

  it('warns that messages may be lost after a restart that lost the room, and only then', async () => {
    await using server = await createTestServer({ protocol: chat })
    const { bob: other } = await annAndBob(server)
    await other.room('general').handle.publish('chat', { text: 'before', author: bob })
    await room().findByText('before')

    await server.restart({ keepState: true })
    await other.room('general').waitFor('joined')
    await other.room('general').handle.publish('chat', { text: 'after a kept restart', author: bob })
    await room().findByText('after a kept restart')
    expect(room().queryByText('Messages may be lost.')).toBeNull()

    await server.restart()
    await room().findByText('Messages may be lost.')
    expect(room().getByText(/The server lost this room’s history while you were away/)).toBeTruthy()
  })
})
