import * as z from 'zod'
import {
  ConnectionIdSchema,
  EpochSchema,
  EventNameSchema,
  PayloadSchema,
  PublishIdSchema,
  RefSchema,
  RequestIdSchema,
  RequestNameSchema,
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
  id: PublishIdSchema.optional(),
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

/**
 * Ask for a page of a joined room's older messages: those below `before` (absent: the newest), at most
 * `limit` (clamped to the server's maximum; absent: its default). Answered by one `history` frame or one
 * `error`, so `ref` is required.
 */
export const HistoryRequestMessageSchema = z.object({
  type: z.literal('history'),
  room: RoomNameSchema,
  before: z
    .int({ error: 'must be a positive safe integer' })
    .min(1, 'must be a positive safe integer')
    .optional(),
  limit: z
    .int({ error: 'must be a positive safe integer' })
    .min(1, 'must be a positive safe integer')
    .optional(),
  ref: RefSchema,
})

/**
 * Ask for a page of a joined room's members, in id order: those whose id sorts after `after` (absent:
 * from the first), at most `limit` (clamped to the server's maximum; absent: its default). Answered by
 * one `members_page` frame or one `error`, so `ref` is required.
 */
export const MembersPageRequestMessageSchema = z.object({
  type: z.literal('members_page'),
  room: RoomNameSchema,
  after: ConnectionIdSchema.optional(),
  limit: z
    .int({ error: 'must be a positive safe integer' })
    .min(1, 'must be a positive safe integer')
    .optional(),
  ref: RefSchema,
})

export const PingMessageSchema = z.object({ type: z.literal('ping'), t: z.number().optional(), ref })

/** A call of an application handler; answered by exactly one `reply` or `error` carrying its (required) `ref`. */
export const RequestMessageSchema = z.object({
  type: z.literal('request'),
  name: RequestNameSchema,
  /** Absent reads as `undefined` for the request's input schema. */
  input: PayloadSchema.optional(),
  room: RoomNameSchema.optional(),
  id: RequestIdSchema,
  ref: RefSchema,
})

/**
 * Stop a request of this connection that is still being handled, by its request `id`: its handler's
 * signal fires and no answer comes. Harmless for an id that names nothing running (unknown, answered, or
 * cancelled already); `ref`, when given, gets an `ack` either way.
 */
export const CancelMessageSchema = z.object({ type: z.literal('cancel'), id: RequestIdSchema, ref })

/** Every message a client may send, discriminated on `type`. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  JoinMessageSchema,
  LeaveMessageSchema,
  PublishMessageSchema,
  DirectMessageSchema,
  PresenceMessageSchema,
  PingMessageSchema,
  HistoryRequestMessageSchema,
  MembersPageRequestMessageSchema,
  RequestMessageSchema,
  CancelMessageSchema,
])

export type ClientMessage = z.infer<typeof ClientMessageSchema>
export type JoinMessage = z.infer<typeof JoinMessageSchema>
export type LeaveMessage = z.infer<typeof LeaveMessageSchema>
export type PublishMessage = z.infer<typeof PublishMessageSchema>
export type DirectMessage = z.infer<typeof DirectMessageSchema>
export type PresenceMessage = z.infer<typeof PresenceMessageSchema>
export type HistoryRequestMessage = z.infer<typeof HistoryRequestMessageSchema>
export type MembersPageRequestMessage = z.infer<typeof MembersPageRequestMessageSchema>
export type PingMessage = z.infer<typeof PingMessageSchema>
export type RequestMessage = z.infer<typeof RequestMessageSchema>
export type CancelMessage = z.infer<typeof CancelMessageSchema>
/** A client message's `ref`. */
export type Ref = z.infer<typeof RefSchema>
/** The `type` of a client message. */
export type ClientMessageType = ClientMessage['type']
