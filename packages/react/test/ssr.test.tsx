// @vitest-environment node
import { defineProtocol } from '@roomwire/protocol'
import { renderToString } from 'react-dom/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import {
  RoomwireProvider,
  useConnectionStatus,
  useMembers,
  useMessages,
  usePresence,
  useRoom,
  useRoomEvent,
} from '../src/index'

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }) },
  presence: z.object({ name: z.string() }),
})
type Chat = typeof chat

function Everything() {
  const status = useConnectionStatus((s) => s.status)
  const room = useRoom<Chat>('general', { presence: { name: 'Ada' }, history: 20 })
  const members = useMembers<Chat>('general')
  const [presence] = usePresence<Chat>('general')
  const { messages } = useMessages<Chat>('general')
  useRoomEvent<Chat, 'chat'>('general', 'chat', () => {})
  return (
    <p>
      {status}/{room.status}/{members.length}/{String(presence)}/{messages.length}
    </p>
  )
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('server rendering', () => {
  it('renders the connecting state and opens no socket', () => {
    const constructed = vi.fn()
    vi.stubGlobal(
      'WebSocket',
      class {
        constructor() {
          constructed()
        }
      },
    )
    const html = renderToString(
      <RoomwireProvider url="ws://example.invalid/ws" options={{ protocol: chat }}>
        <Everything />
      </RoomwireProvider>,
    )
    expect(html.replaceAll('<!-- -->', '')).toContain('connecting/joining/0/undefined/0')
    expect(constructed).not.toHaveBeenCalled()
  })

  it('touches no browser global while rendering', () => {
    expect(typeof window).toBe('undefined')
    expect(typeof document).toBe('undefined')
    expect(() =>
      renderToString(
        <RoomwireProvider url="ws://example.invalid/ws">
          <Everything />
        </RoomwireProvider>,
      ),
    ).not.toThrow()
  })
})
