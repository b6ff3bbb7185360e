import { bench, describe } from 'vitest'
import * as z from 'zod'
import { decodeClientMessage, defineProtocol } from '../src/index'

// A typical chat publish of about 200 bytes.
const frame = JSON.stringify({
  type: 'publish',
  room: 'team/general',
  event: 'chat',
  data: {
    text: 'Hello everyone, the build on main is green again; deploying in ten minutes.',
    mentions: ['ada'],
  },
  echo: false,
  id: 'm_01JD3Z7T0Q8B6W',
  ref: 42,
})

const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().max(2000), mentions: z.array(z.string()).max(20) }) },
})

describe(`decode a ${frame.length}-byte publish`, () => {
  bench('JSON.parse alone (baseline)', () => {
    JSON.parse(frame)
  })

  bench('decodeClientMessage', () => {
    decodeClientMessage(frame, { maxBytes: 65_536 })
  })

  bench('decodeClientMessage + app schema (defineProtocol)', () => {
    const result = decodeClientMessage(frame, { maxBytes: 65_536 })
    if (result.success && result.data.type === 'publish')
      chat.validateEvent(result.data.event, result.data.data)
  })
})
