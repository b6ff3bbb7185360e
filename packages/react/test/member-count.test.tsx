import type { AddressInfo } from 'node:net'
import { type Client, createClient } from '@roomwire/client'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import { cleanup, render, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RoomwireProvider, useMemberCount, useMembers, useRoom } from '../src/index'

// useMemberCount against the real server (issue 20): right in list mode and in counts mode, where
// useMembers holds only self.

let server: RoomServer | undefined
const clients: Client[] = []
afterEach(async () => {
  cleanup()
  for (const client of clients.splice(0)) client.close()
  await server?.close({ timeoutMs: 500 })
  server = undefined
})

function nodeClient(url: string): Client {
  const client = createClient({ url, WebSocket, leaveGraceMs: 50, logger: { error: () => {} } })
  clients.push(client)
  return client
}

function Count() {
  useRoom('big')
  const count = useMemberCount('big')
  const listed = useMembers('big', (members) => members.length)
  return <p data-testid="count">{`${count} members, ${listed} listed`}</p>
}

describe('useMemberCount', () => {
  it('shows the room count in list mode and after the room switches to counts', async () => {
    server = createRoomServer({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      rateLimitPerSec: 0,
      memberListMax: 3,
    })
    await server.ready
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
    const view = render(
      <RoomwireProvider client={nodeClient(url)}>
        <Count />
      </RoomwireProvider>,
    )
    await waitFor(() => expect(view.getByTestId('count').textContent).toBe('1 members, 1 listed'))
    const others = Array.from({ length: 2 }, () => nodeClient(url).join('big'))
    await Promise.all(others.map((room) => room.ready))
    await waitFor(() => expect(view.getByTestId('count').textContent).toBe('3 members, 3 listed'))
    // A fourth member: past the threshold, the list is self only, the count goes on.
    const fourth = nodeClient(url).join('big')
    await fourth.ready
    await waitFor(() => expect(view.getByTestId('count').textContent).toBe('4 members, 1 listed'))
    fourth.leave()
    await waitFor(() => expect(view.getByTestId('count').textContent).toBe('3 members, 1 listed'))
  })
})
