import type { AddressInfo } from 'node:net'
import { type Client, createClient } from '@roomwire/client'
import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import { act, cleanup, render, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as z from 'zod'
import { RoomwireProvider, useMessages, useRoom } from '../src/index'

const chat = defineProtocol({ events: { chat: z.object({ text: z.string() }) } })
type Chat = typeof chat

let server: RoomServer | undefined
const clients: Client<Chat>[] = []
afterEach(async () => {
  cleanup()
  for (const client of clients.splice(0)) client.close()
  await server?.close({ timeoutMs: 500 })
  server = undefined
})

async function start(): Promise<string> {
  server = createRoomServer({
    port: 0,
    host: '127.0.0.1',
    protocol: chat,
    logLevel: 'silent',
    rateLimitPerSec: 0,
  })
  await server.ready
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
}

async function seed(url: string, count: number): Promise<void> {
  const publisher = createClient({ url, protocol: chat, WebSocket, logger: { error: () => {} } })
  clients.push(publisher)
  const room = publisher.join('general')
  await room.ready
  for (let i = 1; i <= count; i++) await room.publish('chat', { text: `m${i}` })
  publisher.close()
}

/** Every key the list ever rendered, by text: a key must never change for the same message. */
const keysSeen = new Map<string, Set<string>>()

function Scrollback() {
  useRoom<Chat>('general', { history: 5 })
  const { messages, loadOlder, hasOlder, loadingOlder } = useMessages<Chat>('general')
  for (const m of messages) {
    const keys = keysSeen.get(m.data.text) ?? new Set()
    keys.add(m.key)
    keysSeen.set(m.data.text, keys)
  }
  return (
    <>
      <p data-testid="list">{messages.map((m) => m.data.text).join(',')}</p>
      <p data-testid="state">{`${hasOlder}:${loadingOlder}`}</p>
      <button type="button" onClick={() => void loadOlder()}>
        older
      </button>
    </>
  )
}

const texts = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`).join(',')

describe('useMessages loadOlder against the real server', () => {
  it('merges older pages into the same list without duplicates, keys stable, until there are none', async () => {
    const url = await start()
    await seed(url, 60)
    const view = render(
      <RoomwireProvider url={url} options={{ protocol: chat, WebSocket, leaveGraceMs: 50 }}>
        <Scrollback />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(texts(56, 60)))
    expect(view.getByTestId('state').textContent).toBe('true:false')
    act(() => view.getByText('older').click())
    expect(view.getByTestId('state').textContent).toBe('true:true')
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(texts(6, 60)))
    expect(view.getByTestId('state').textContent).toBe('true:false')
    act(() => view.getByText('older').click())
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(texts(1, 60)))
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('false:false'))
    // Live messages go on after the loaded ones.
    const other = createClient({ url, protocol: chat, WebSocket, logger: { error: () => {} } })
    clients.push(other)
    const room = other.join('general')
    await room.ready
    await room.publish('chat', { text: 'm61' })
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(texts(1, 61)))
    for (const [text, keys] of keysSeen) expect(keys.size, text).toBe(1)
  })

  it('offers nothing older when the list starts at the first message, or the room has none', async () => {
    const url = await start()
    const view = render(
      <RoomwireProvider url={url} options={{ protocol: chat, WebSocket, leaveGraceMs: 50 }}>
        <Scrollback />
      </RoomwireProvider>,
    )
    // Joined an empty room: nothing to page back to.
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('false:false'))
    await seed(url, 3)
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(texts(1, 3)))
    expect(view.getByTestId('state').textContent).toBe('false:false')
  })

  it('offers older messages once the first one is no longer listed', async () => {
    const url = await start()
    await seed(url, 7)
    const view = render(
      <RoomwireProvider url={url} options={{ protocol: chat, WebSocket, leaveGraceMs: 50 }}>
        <Scrollback />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(view.getByTestId('list').textContent).toBe(texts(3, 7)))
    expect(view.getByTestId('state').textContent).toBe('true:false')
  })
})
