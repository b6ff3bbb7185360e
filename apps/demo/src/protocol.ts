import { defineProtocol, RoomNameSchema } from '@roomwire/protocol'
import * as z from 'zod'

/** What people call you: 1 to 40 characters once trimmed. */
export const DisplayNameSchema = z.string().trim().min(1).max(40)

/** A chat message's text: 1 to 2,000 characters once trimmed. */
export const ChatTextSchema = z.string().trim().min(1).max(2000)

/**
 * Who someone is: `uid`, a random id this browser keeps (so a reload or a rename is still the same person),
 * and the name they go by. The server has no accounts in this demo, so both are the client's claim.
 */
export const PersonSchema = z.object({ uid: z.string().min(8).max(64), name: DisplayNameSchema })

/** Every client joins this room; its presence carries names and the rooms each person is in. */
export const LOBBY = 'lobby'

/** A room someone may open: any room name but the lobby's. */
export const ChatRoomNameSchema = RoomNameSchema.refine(
  (name) => name !== LOBBY,
  'the lobby is not a chat room',
)

/** Most rooms `listRooms` returns: the busiest first. */
export const MAX_LISTED_ROOMS = 50

/**
 * The demo's protocol, declared once and used by its server (validation) and its UI (types): the example to
 * copy for your own app.
 */
export const chat = defineProtocol({
  events: {
    /**
     * The author travels in the message, so history names who wrote it after they left, reloaded or
     * renamed (issue 16): the server stamps only a connection id (`from`), which dies with the connection.
     */
    chat: z.object({ text: ChatTextSchema, author: PersonSchema }),
  },
  presence: PersonSchema.extend({
    typing: z.boolean().optional(),
    /**
     * In the lobby: the rooms this person has joined. A change here is everyone's cue to ask the server for
     * the room list again (`listRooms`); the counts themselves are the server's.
     */
    rooms: z.array(RoomNameSchema).max(10).optional(),
  }),
  // Answered by the handlers in ./handlers.ts, which the reference server loads with `--handlers`.
  requests: {
    /** The rooms that have people in them, by the server's own count (people, not tabs), busiest first. */
    listRooms: {
      input: z.void(),
      output: z.object({
        rooms: z.array(z.object({ name: ChatRoomNameSchema, people: z.int().min(1) })).max(MAX_LISTED_ROOMS),
      }),
    },
    /**
     * Start a room of a new name. Refused with `name_taken` when a room of that name has people or
     * history: you would walk into someone else's conversation (open it from the list instead).
     */
    createRoom: {
      input: z.object({ name: ChatRoomNameSchema }),
      output: z.object({ name: ChatRoomNameSchema }),
      errors: ['name_taken'],
    },
  },
})

export type Chat = typeof chat
export type Person = z.infer<typeof PersonSchema>

function maxLength(schema: z.ZodString): number {
  if (schema.maxLength === null) throw new Error('the schema declares no maximum length')
  return schema.maxLength
}

/** Longest chat message, in characters (read from the schema, so the UI says what the server enforces). */
export const MAX_TEXT = maxLength(ChatTextSchema)

/** Longest display name, in characters. */
export const MAX_NAME = maxLength(DisplayNameSchema)

/** Rooms offered on first visit. */
export const DEFAULT_ROOMS = ['general', 'random', 'help']
