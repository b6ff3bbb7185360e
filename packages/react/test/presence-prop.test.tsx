import { type Client, createClient } from '@roomwire/client'
import { defineProtocol } from '@roomwire/protocol'
import { cleanup, renderHook, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as z from 'zod'
import { RoomwireProvider, useRoom } from '../src/index'
import { scriptedServer, URL } from './support/scripted-server'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }) },
  presence: z.object({ name: z.string() }),
})
type Chat = typeof chat

const script = scriptedServer()
beforeAll(() => script.server.listen({ onUnhandledRequest: 'error' }))
afterAll(() => script.server.close())

let client: Client<Chat> | null = null
afterEach(() => {
  cleanup()
  client?.close()
  client = null
  script.state.connections.length = 0
  script.state.received.length = 0
})

function mount(initial: { name: string } | undefined) {
  client = createClient({ url: URL, protocol: chat, leaveGraceMs: 20, logger: { error: () => {} } })
  const given = client
  const wrapper = ({ children }: { children: ReactNode }) => (
    <RoomwireProvider client={given}>{children}</RoomwireProvider>
  )
  return renderHook(
    ({ presence }: { presence: { name: string } | undefined }) =>
      useRoom<Chat>('general', presence === undefined ? {} : { presence }),
    { wrapper, initialProps: { presence: initial } },
  )
}

describe("useRoom's presence option", () => {
  it('sends a changed presence as an update after the join', async () => {
    const { result, rerender } = mount({ name: 'Ada' })
    await waitFor(() => expect(result.current.status).toBe('joined'))
    rerender({ presence: { name: 'Bea' } })
    await waitFor(() =>
      expect(script.sent('presence')).toMatchObject([{ room: 'general', state: { name: 'Bea' } }]),
    )
    expect(result.current.self?.presence).toEqual({ name: 'Bea' })
    expect(script.sent('join')).toHaveLength(1)
  })

  it('sends nothing for a new object with the same presence', async () => {
    const { result, rerender } = mount({ name: 'Ada' })
    await waitFor(() => expect(result.current.status).toBe('joined'))
    rerender({ presence: { name: 'Ada' } })
    rerender({ presence: { name: 'Ada' } })
    // A later change does go out, so the two renders above had their chance to.
    rerender({ presence: { name: 'Cy' } })
    await waitFor(() => expect(script.sent('presence')).toHaveLength(1))
    expect(script.sent('presence')[0]).toMatchObject({ state: { name: 'Cy' } })
  })

  it('sends a presence given only after the join', async () => {
    const { result, rerender } = mount(undefined)
    await waitFor(() => expect(result.current.status).toBe('joined'))
    expect(script.sent('join')[0]).not.toHaveProperty('presence')
    rerender({ presence: { name: 'Di' } })
    await waitFor(() => expect(result.current.self?.presence).toEqual({ name: 'Di' }))
    expect(script.sent('presence')).toMatchObject([{ state: { name: 'Di' } }])
  })
})
