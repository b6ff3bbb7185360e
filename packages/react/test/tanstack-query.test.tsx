import type { AddressInfo } from 'node:net'
import { type Client, createClient, RoomwireError } from '@roomwire/client'
import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer, RequestError, type RoomServer } from '@roomwire/server'
import { QueryClient, QueryClientProvider, useMutation, useQuery } from '@tanstack/react-query'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as z from 'zod'
import { RoomwireProvider, useRoomwireClient } from '../src/index'

/** The hookup the README shows: requests as TanStack Query's query and mutation functions, no cache of ours. */
const app = defineProtocol({
  requests: {
    listRooms: { input: z.void(), output: z.array(z.string()) },
    createRoom: {
      input: z.object({ name: z.string() }),
      output: z.object({ id: z.string() }),
      errors: ['name_taken'],
    },
  },
})
type App = typeof app

let server: RoomServer | undefined
let client: Client<App> | undefined
afterEach(async () => {
  cleanup()
  client?.close()
  await server?.close({ timeoutMs: 500 })
})

async function start(): Promise<Client<App>> {
  const rooms = ['lobby']
  server = createRoomServer({
    port: 0,
    host: '127.0.0.1',
    protocol: app,
    handlers: {
      listRooms: () => [...rooms],
      createRoom: ({ name }) => {
        if (rooms.includes(name)) throw new RequestError('name_taken', 'That name is taken')
        rooms.push(name)
        return { id: name }
      },
    },
  })
  await server.ready
  client = createClient({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    protocol: app,
    WebSocket,
    logger: { error: () => {} },
  })
  return client
}

function Rooms() {
  const rw = useRoomwireClient<App>()
  const rooms = useQuery({
    queryKey: ['rooms'],
    queryFn: ({ signal }) => rw.request('listRooms', undefined, { signal }),
  })
  const create = useMutation({
    mutationFn: (name: string) => rw.request('createRoom', { name }),
    onSuccess: () => rooms.refetch(),
  })
  const taken = create.error instanceof RoomwireError && create.error.code === 'name_taken'
  return (
    <div>
      <p data-testid="rooms">{rooms.data?.join(',') ?? 'loading'}</p>
      <p data-testid="error">{taken ? 'taken' : ''}</p>
      <button type="button" onClick={() => create.mutate('hall')}>
        hall
      </button>
      <button type="button" onClick={() => create.mutate('lobby')}>
        lobby
      </button>
    </div>
  )
}

const queries = new QueryClient({
  defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
})

function Wrapper({ rw, children }: { rw: Client<App>; children: ReactNode }) {
  return (
    <QueryClientProvider client={queries}>
      <RoomwireProvider client={rw}>{children}</RoomwireProvider>
    </QueryClientProvider>
  )
}

describe('TanStack Query over client.request', () => {
  it('loads with useQuery, changes with useMutation, and shows a declared refusal', async () => {
    const rw = await start()
    render(
      <Wrapper rw={rw}>
        <Rooms />
      </Wrapper>,
    )
    await waitFor(() => expect(screen.getByTestId('rooms').textContent).toBe('lobby'))
    await act(async () => screen.getByText('hall').click())
    await waitFor(() => expect(screen.getByTestId('rooms').textContent).toBe('lobby,hall'))
    await act(async () => screen.getByText('lobby').click())
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe('taken'))
  })
})
