import { defineProtocol } from '@roomwire/protocol'
import { describe, expectTypeOf, it } from 'vitest'
import * as zm from 'zod/mini'
import { createClient } from '../src/index'

// zod/mini schemas type the client as zod classic ones do (through Standard Schema, issue #15).
const chat = defineProtocol({
  events: { chat: zm.object({ text: zm.string() }) },
  presence: zm.object({ name: zm.string() }),
})

describe('a client typed by a zod/mini protocol', () => {
  const room = createClient({ url: 'ws://x', protocol: chat, autoConnect: false }).join('general')

  it('types publish and handlers by event', () => {
    void room.publish('chat', { text: 'hi' })
    // @ts-expect-error: not a declared event
    void room.publish('chta', { text: 'hi' })
    // @ts-expect-error: text is a string
    void room.publish('chat', { text: 1 })
    room.on('chat', (data) => expectTypeOf(data).toEqualTypeOf<{ text: string }>())
  })

  it('types presence', () => {
    // @ts-expect-error: name is a string
    room.setPresence({ name: 1 })
  })
})
