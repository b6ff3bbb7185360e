import type { AddressInfo } from 'node:net'
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
afterEach(async () => {
  cleanup()
  await server?.close({ timeoutMs: 500 })
  server = undefined
})

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
})
