import { defineProtocol, RoomNameSchema } from '@roomwire/protocol'
import * as z from 'zod'

/** Longest chat message, in characters. */
export const MAX_TEXT = 2000

/**
 * The demo's protocol, declared once and used by its server (validation) and its UI (types): the example to
 * copy for your own app.
 */
export const chat = defineProtocol({
  events: {
    chat: z.object({ text: z.string().trim().min(1).max(MAX_TEXT) }),
  },
  presence: z.object({
    name: z.string().trim().min(1).max(40),
    typing: z.boolean().optional(),
    /** In the lobby: the rooms this person has open, so everyone sees a room list with member counts. */
    rooms: z.array(RoomNameSchema).max(10).optional(),
  }),
})

export type Chat = typeof chat

/** Every client joins this room; its presence carries names and open rooms. */
export const LOBBY = 'lobby'

/** Rooms offered on first visit. */
export const DEFAULT_ROOMS = ['general', 'random', 'help']
