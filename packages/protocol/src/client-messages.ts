import * as z from 'zod'
import {
  ConnectionIdSchema,
  EpochSchema,
  EventNameSchema,
  MessageIdSchema,
  PayloadSchema,
  RefSchema,
  RoomNameSchema,
  SeqSchema,
} from './names'

const ref = RefSchema.optional()

export const JoinMessageSchema = z
  .object({
    type: z.literal('join'),
    room: RoomNameSchema,
    presence: PayloadSchema.optional(),
    since: SeqSchema.optional(),
    epoch: EpochSchema.optional(),
    history: SeqSchema.optional(),
    ref,
  })
  .refine((m) => (m.since === undefined) === (m.epoch === undefined), {
    message: 'since and epoch must be given together',
    path: ['since'],
  })

export const LeaveMessageSchema = z.object({ type: z.literal('leave'), room: RoomNameSchema, ref })

export const PublishMessageSchema = z.object({
  type: z.literal('publish'),
  room: RoomNameSchema,
  event: EventNameSchema,
  data: PayloadSchema,
  echo: z.boolean().optional(),
  id: MessageIdSchema.optional(),
  ref,
})

export const DirectMessageSchema = z.object({
  type: z.literal('direct'),
  to: ConnectionIdSchema,
  event: EventNameSchema,
  data: PayloadSchema,
  ref,
})

export const PresenceMessageSchema = z.object({
  type: z.literal('presence'),
  room: RoomNameSchema,
  state: PayloadSchema,
  ref,
})

export const PingMessageSchema = z.object({ type: z.literal('ping'), t: z.number().optional(), ref })

/** Every message a client may send, discriminated on `type`. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  JoinMessageSchema,
  LeaveMessageSchema,
  PublishMessageSchema,
  DirectMessageSchema,
  PresenceMessageSchema,
  PingMessageSchema,
])

export type ClientMessage = z.infer<typeof ClientMessageSchema>
export type JoinMessage = z.infer<typeof JoinMessageSchema>
export type LeaveMessage = z.infer<typeof LeaveMessageSchema>
export type PublishMessage = z.infer<typeof PublishMessageSchema>
export type DirectMessage = z.infer<typeof DirectMessageSchema>
export type PresenceMessage = z.infer<typeof PresenceMessageSchema>
export type PingMessage = z.infer<typeof PingMessageSchema>
/** A client message's `ref`. */
export type Ref = z.infer<typeof RefSchema>
/** The `type` of a client message. */
export type ClientMessageType = ClientMessage['type']
