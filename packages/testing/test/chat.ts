import { defineProtocol } from '@roomwire/protocol'
import * as z from 'zod'

/** The chat protocol the kit's own tests use. */
export const chat = defineProtocol({
  events: { chat: z.object({ text: z.string().min(1).max(2000) }), typing: z.object({}) },
  presence: z.object({ name: z.string() }),
})
export type Chat = typeof chat
