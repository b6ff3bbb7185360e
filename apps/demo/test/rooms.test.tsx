// @vitest-environment happy-dom
import {
  type ConnectOptions,
  createTestServer,
  TEST_CLIENT_DEFAULTS,
  type TestServer,
} from '@roomwire/testing'
import { renderWithRoomwire } from '@roomwire/testing/react'
import { cleanup, fireEvent, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { App } from '../src/app'
import { handlers } from '../src/handlers'
import { type Chat, chat, LOBBY, type Person } from '../src/protocol'

// The room list and the new-room form, in the whole app rendered in happy-dom against a real server that
// runs the demo's own request handlers (src/handlers.ts). Others are test clients.

const bob: Person = { uid: 'bob-0000-uid', name: 'Bob' }

afterEach(() => {
  cleanup()
  localStorage.clear()
  // The app keeps the room on screen in the address (`#room`): the next test starts without one.
  history.replaceState(null, '', location.pathname)
})

/** A server with the demo's protocol and request handlers, as `pnpm start` runs it. */
const demoServer = () => createTestServer({ protocol: chat, handlers })

/** Ann, with her name saved (so no welcome form), in #general, the room a first visit opens. */
async function renderAnn(server: TestServer<Chat>, client?: ConnectOptions<Chat>['client']) {
  localStorage.setItem('roomwire-demo:name', 'Ann')
  const options = { ...TEST_CLIENT_DEFAULTS, ...client }
  const rendered = await renderWithRoomwire(<App />, { server, user: 'ann', client: options })
  await screen.findByRole('region', { name: 'Room general' })
  return rendered
}

const rooms = () => within(screen.getByRole('navigation', { name: 'Rooms' }))
const form = () => {
  const field = screen.getByLabelText('Create a room')
  const element = field.closest('form')
  if (element === null) throw new Error('the field is in no form')
  return within(element)
}

async function create(name: string) {
  fireEvent.change(form().getByLabelText('Create a room'), { target: { value: name } })
  fireEvent.click(form().getByRole('button', { name: 'Create' }))
}

describe('the room list', () => {
  it("shows the rooms that have people with the server's head count, a person's two tabs counted once", async () => {
    await using server = await demoServer()
    // Bob in two tabs, and a script with no presence (the browser console, a bot): two people.
    for (const user of ['bob', 'bob']) {
      const tab = await server.connect({ user })
      await tab.join('design', { presence: bob }).ready
    }
    const script = await server.connect({ user: 'script' })
    await script.join('design').ready
    await renderAnn(server)
    await rooms().findByRole('button', { name: 'design, 2 people here' })
    await rooms().findByRole('button', { name: 'general, 1 person here' })
    // The lobby is where everyone is, not a chat room.
    expect(rooms().queryByRole('button', { name: new RegExp(`^${LOBBY},`) })).toBeNull()
  })

  it('asks the server again when the lobby says someone joined a room', async () => {
    await using server = await demoServer()
    await renderAnn(server)
    await rooms().findByRole('button', { name: 'general, 1 person here' })
    const other = await server.connect({ user: 'bob' })
    const lobby = other.join(LOBBY, { presence: { ...bob, rooms: [] } })
    await lobby.ready
    await other.join('plans', { presence: bob }).ready
    // What the demo's lobby carries once a room is joined: the cue for everyone to ask again.
    await lobby.setPresence({ ...bob, rooms: ['plans'] })
    await rooms().findByRole('button', { name: 'plans, 1 person here' })
  })
})

describe('creating a room', () => {
  it('creates a room of a new name and opens it', async () => {
    await using server = await demoServer()
    await renderAnn(server)
    await create('#fresh')
    await screen.findByRole('region', { name: 'Room fresh' })
    await rooms().findByRole('button', { name: 'fresh, 1 person here' })
    expect((form().getByLabelText('Create a room') as HTMLInputElement).value).toBe('')
    expect(form().getByRole('alert').textContent).toBe('')
  })

  it('refuses the name of a room that has people with name_taken, and offers to open it instead', async () => {
    await using server = await demoServer()
    const other = await server.connect({ user: 'bob' })
    await other.join('design', { presence: bob }).ready
    await renderAnn(server)
    await create('design')
    await vi.waitFor(() => expect(form().getByRole('alert').textContent).toMatch(/^That name is taken/))
    expect(form().getByLabelText('Create a room').getAttribute('aria-invalid')).toBe('true')
    expect(screen.queryByRole('region', { name: 'Room design' })).toBeNull()

    fireEvent.click(form().getByRole('button', { name: 'Open #design' }))
    await screen.findByRole('region', { name: 'Room design' })
    await expect(other.room('design').next('member_joined')).resolves.toMatchObject({ user: 'ann' })
    expect(form().getByRole('alert').textContent).toBe('')
  })

  it('refuses the name of a room everyone left while its history stays', async () => {
    await using server = await demoServer()
    const other = await server.connect({ user: 'bob' })
    const archive = other.join('archive', { presence: bob })
    await archive.ready
    await archive.publish('chat', { text: 'notes for later', author: bob })
    archive.leave()
    await vi.waitFor(async () => expect((await server.rooms.roomInfo('archive'))?.memberCount).toBe(0))
    await renderAnn(server)
    await create('archive')
    await vi.waitFor(() => expect(form().getByRole('alert').textContent).toMatch(/^That name is taken/))
    form().getByRole('button', { name: 'Open #archive' })
  })

  it('says at once that it cannot create a room while offline, and shows no stale head counts', async () => {
    await using server = await demoServer()
    // Her next attempt a minute away (no jitter), so she stays offline while the test looks.
    const wait = { initialMs: 60_000, factor: 2, maxMs: 60_000, overloadedMinMs: 60_000 }
    const { client } = await renderAnn(server, { reconnect: wait, random: () => 1 })
    await rooms().findByRole('button', { name: 'general, 1 person here' })
    await server.cut(client)
    expect(client.getSnapshot().status).toBe('reconnecting')
    // The head counts were the server's answer before the cut: not shown as if they were now.
    await rooms().findByRole('button', { name: 'general' })
    expect(rooms().queryByText('1')).toBeNull()
    await create('later')
    await vi.waitFor(() =>
      expect(form().getByRole('alert').textContent).toBe(
        'Not connected: try again when the connection is back.',
      ),
    )
    expect(form().getByRole('button', { name: 'Create' })).toBeTruthy()
  })

  it('says what a room name may be before asking the server', async () => {
    const asked: string[] = []
    await using server = await createTestServer({
      protocol: chat,
      handlers: {
        ...handlers,
        createRoom: (input, ctx) => {
          asked.push(input.name)
          return handlers.createRoom(input, ctx)
        },
      },
    })
    await renderAnn(server)
    await create('lobby')
    expect(form().getByRole('alert').textContent).toBe(
      'Use 1 to 128 letters, digits or _ - . : / @ (not "lobby").',
    )
    await create('two words')
    expect(form().getByRole('alert').textContent).toMatch(/^Use 1 to 128/)
    expect(screen.queryByRole('region', { name: 'Room two words' })).toBeNull()
    expect(asked).toEqual([])
  })
})
