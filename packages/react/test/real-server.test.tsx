import type { AddressInfo } from 'node:net'
import { type Client, createClient } from '@roomwire/client'
import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import { act, cleanup, render, waitFor } from '@testing-library/react'
import { StrictMode, useState } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as z from 'zod'
import { RoomwireProvider, useMessages, useRoom } from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().min(1) }) },
  presence: z.object({ name: z.string() }),
})
type Chat = typeof chat

let server: RoomServer | undefined
const clients: Client<Chat>[] = []
afterEach(async () => {
  cleanup()
  for (const client of clients.splice(0)) client.close()
  await server?.close({ timeoutMs: 500 })
  server = undefined
})

function nodeClient(url: string): Client<Chat> {
  const client = createClient({
    url,
    protocol: chat,
    WebSocket,
    leaveGraceMs: 50,
    logger: { error: () => {} },
  })
  clients.push(client)
  return client
}

/** Publish `count` messages into `room` from a client of its own, then let it go. */
async function seed(url: string, room: string, count: number): Promise<void> {
  const publisher = nodeClient(url)
  const handle = publisher.join(room)
  await handle.ready
  for (let i = 1; i <= count; i++) await handle.publish('chat', { text: `old ${i}` })
  publisher.close()
}

/** The room, with a message list that mounts only once the room is joined (a common UI shape). */
function LateList({ history }: { history: number }) {
  const { status } = useRoom<Chat>('general', { history })
  return status === 'joined' ? <List /> : <p>joining</p>
}

function List() {
  const { messages } = useMessages<Chat>('general')
  return <p data-testid="list">{messages.map((m) => m.data.text).join('|')}</p>
}

function Both({ history }: { history: number }) {
  useRoom<Chat>('general', { history })
  return <List />
}

const oldTexts = (n: number) => Array.from({ length: n }, (_, i) => `old ${i + 1}`).join('|')

async function start(counts: { connects: number; joins: number }) {
  server = createRoomServer({
    port: 0,
    host: '127.0.0.1',
    protocol: chat,
    logLevel: 'silent',
    onConnect: () => {
      counts.connects += 1
    },
    onJoin: () => {
      counts.joins += 1
    },
  })
  await server.ready
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
}

function ChatBox({ name }: { name: string }) {
  const room = useRoom<Chat>('general', { presence: { name }, history: 10 })
  const { messages, send } = useMessages<Chat>('general')
  const [draft] = useState(`hello from ${name}`)
  return (
    <section aria-label={name}>
      <p data-testid={`${name}-status`}>{room.status}</p>
      <p data-testid={`${name}-members`}>{room.members.map((m) => m.presence?.name).join(',')}</p>
      <ol data-testid={`${name}-log`}>
        {messages.map((m) => (
          <li key={m.key}>
            {m.data.text}:{m.status}
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => void send('chat', { text: draft })}>
        send as {name}
      </button>
    </section>
  )
}

function Sender() {
  useRoom<Chat>('general')
  const { messages, send } = useMessages<Chat>('general')
  return (
    <>
      <button type="button" onClick={() => void send('chat', { text: '' })}>
        send empty
      </button>
      <p data-testid="log">{messages.map((m) => `${m.status}:${m.error?.code ?? ''}`).join(',')}</p>
    </>
  )
}

describe('against the real @roomwire/server', () => {
  it('two providers chat in StrictMode, and the server sees one connection and one join each', async () => {
    const counts = { connects: 0, joins: 0 }
    const url = await start(counts)
    const options = { protocol: chat, WebSocket, leaveGraceMs: 50 }
    const view = render(
      <StrictMode>
        <RoomwireProvider url={url} options={options}>
          <ChatBox name="ada" />
        </RoomwireProvider>
        <RoomwireProvider url={url} options={options}>
          <ChatBox name="bob" />
        </RoomwireProvider>
      </StrictMode>,
    )
    await waitFor(() =>
      expect(view.getByTestId('ada-members').textContent?.split(',').sort()).toEqual(['ada', 'bob']),
    )
    await waitFor(() =>
      expect(view.getByTestId('bob-members').textContent?.split(',').sort()).toEqual(['ada', 'bob']),
    )
    act(() => view.getByText('send as ada').click())
    await waitFor(() => expect(view.getByTestId('ada-log').textContent).toBe('hello from ada:delivered'))
    await waitFor(() => expect(view.getByTestId('bob-log').textContent).toBe('hello from ada:received'))
    act(() => view.getByText('send as bob').click())
    await waitFor(() =>
      expect(view.getByTestId('ada-log').textContent).toBe('hello from ada:deliveredhello from bob:received'),
    )
    expect(counts).toEqual({ connects: 2, joins: 2 })
    view.unmount()
    await waitFor(() => expect(server?.connections()).toHaveLength(0))
  })

  it('shows the server refusing an invalid payload as a failed message', async () => {
    const url = await start({ connects: 0, joins: 0 })
    const view = render(
      <RoomwireProvider url={url} options={{ WebSocket }}>
        <Sender />
      </RoomwireProvider>,
    )
    await waitFor(async () => expect(await server?.rooms()).toContain('general'))
    act(() => view.getByText('send empty').click())
    await waitFor(() => expect(view.getByTestId('log').textContent).toBe('failed:invalid_event'))
  })

  it('a list that mounts once its room is joined shows the whole history the join replayed', async () => {
    const url = await start({ connects: 0, joins: 0 })
    await seed(url, 'general', 10)
    const client = nodeClient(url)
    const view = render(
      <RoomwireProvider client={client}>
        <LateList history={10} />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(oldTexts(10)))
  })

  it.each([
    ['', false],
    [' in StrictMode', true],
  ])('a room that mounts while the socket is already open shows all of its history%s', async (_, strict) => {
    const url = await start({ connects: 0, joins: 0 })
    await seed(url, 'general', 7)
    const client = nodeClient(url)
    await waitFor(() => expect(client.status).toBe('open'))
    const tree = (
      <RoomwireProvider client={client}>
        <Both history={7} />
      </RoomwireProvider>
    )
    const view = render(strict ? <StrictMode>{tree}</StrictMode> : tree)
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(oldTexts(7)))
  })

  it('a second list that mounts on a room already joined shows the history too', async () => {
    const url = await start({ connects: 0, joins: 0 })
    await seed(url, 'general', 5)
    const client = nodeClient(url)
    const first = render(
      <RoomwireProvider client={client}>
        <Both history={5} />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(first.getByTestId('list').textContent).toBe(oldTexts(5)))
    const second = render(
      <RoomwireProvider client={client}>
        <List />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(second.getAllByTestId('list')[1]?.textContent).toBe(oldTexts(5)))
  })
})
