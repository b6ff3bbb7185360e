import * as z from 'zod'
import { ERROR_CODES } from './codes'
import {
  ConnectionIdSchema,
  EpochSchema,
  EventNameSchema,
  MessageIdSchema,
  RefSchema,
  ReplyErrorCodeSchema,
  RoomNameSchema,
  SeqSchema,
} from './names'
import { PROTOCOL_VERSION } from './version'

const ref = RefSchema.optional()
const timestamp = z.number()

/** One member of a room as others see it. */
export const MemberSchema = z.object({
  id: ConnectionIdSchema,
  user: z.string().optional(),
  presence: z.unknown().optional(),
})

/** Server limits a client needs to know, sent in `welcome`. Unknown keys are kept for newer servers. */
export const LimitsSchema = z.looseObject({
  maxMessageBytes: z.int().positive(),
  maxRoomsPerConnection: z.int().positive(),
  maxPresenceBytes: z.int().positive().optional(),
  maxMembersPerRoom: z.int().positive().optional(),
  historySize: z.int().min(0).optional(),
  /** How many levels a payload (`data`, presence `state`) may nest; deeper frames are `bad_request`. */
  maxNestingDepth: z.int().positive().optional(),
  /** How many requests a connection may have being handled at once; more are `too_many_requests`. */
  maxRequestsInFlight: z.int().positive().optional(),
})

export const WelcomeMessageSchema = z.object({
  type: z.literal('welcome'),
  id: ConnectionIdSchema,
  user: z.string().optional(),
  protocol: z.literal(PROTOCOL_VERSION),
  heartbeat: z.object({ interval: z.number().positive(), timeout: z.number().positive() }),
  limits: LimitsSchema,
})

export const JoinedMessageSchema = z.object({
  type: z.literal('joined'),
  room: RoomNameSchema,
  /** The room's latest seq when the member was added. */
  seq: SeqSchema,
  epoch: EpochSchema,
  /** The members, the joiner included; only the first page of them when `more` is true. */
  members: z.array(MemberSchema),
  recovered: z.boolean().optional(),
  /** How many replayed `message` frames follow (seq `seq - replay + 1` to `seq`); absent means none. */
  replay: SeqSchema.optional(),
  /** The member list goes on in `members` frames, sent before any replayed message. */
  more: z.literal(true).optional(),
  /**
   * Counts mode (a room above the server's `memberListMax`): how many members the room has, the joiner
   * included; `members` then holds the joiner only, and the list is read in `members_page` pages.
   */
  count: SeqSchema.optional(),
  ref,
})

/** The rest of a `joined` member list, page by page, when it would not fit one frame. */
export const MembersMessageSchema = z.object({
  type: z.literal('members'),
  room: RoomNameSchema,
  members: z.array(MemberSchema),
  /** Another page follows. */
  more: z.literal(true).optional(),
})

export const LeftMessageSchema = z.object({ type: z.literal('left'), room: RoomNameSchema, ref })

export const MemberJoinedMessageSchema = z.object({
  type: z.literal('member_joined'),
  room: RoomNameSchema,
  member: MemberSchema,
})

export const MemberLeftMessageSchema = z.object({
  type: z.literal('member_left'),
  room: RoomNameSchema,
  id: ConnectionIdSchema,
})

/**
 * A room's membership changes of one server turn, in order, as one frame (issue 20: filling a room of N
 * one frame per join and member cost N(N-1)/2 frames). Each entry is one `member_joined` (`joined`) or
 * `member_left` (`left`, the id) as they would have been sent alone.
 */
export const MemberChangesMessageSchema = z.object({
  type: z.literal('member_changes'),
  room: RoomNameSchema,
  /** Each entry has `joined` (a member) or `left` (its id); one with neither says nothing. */
  changes: z.array(z.object({ joined: MemberSchema.optional(), left: ConnectionIdSchema.optional() })),
})

/**
 * Counts mode: the room's member count, instead of its membership changes (at most one a member per
 * server turn, or per 50 ms while they keep coming). To a member that was sent the list, it also says the
 * room switched to counts mode: it keeps only its own entry.
 */
export const MemberCountMessageSchema = z.object({
  type: z.literal('member_count'),
  room: RoomNameSchema,
  count: SeqSchema,
})

/** The answer to a client `members_page`: members in id order after its `after`, and the room's count. */
export const MembersPageMessageSchema = z.object({
  type: z.literal('members_page'),
  room: RoomNameSchema,
  ref: RefSchema,
  members: z.array(MemberSchema),
  /** The room's member count when the page was read. */
  count: SeqSchema,
  /** More members follow: ask again with `after` set to the last one's id. */
  more: z.boolean(),
})

export const RoomEventMessageSchema = z.object({
  type: z.literal('message'),
  room: RoomNameSchema,
  event: EventNameSchema,
  data: z.unknown(),
  from: z.string(),
  /** The publisher's authenticated user, so history shows who wrote what after they left. */
  user: z.string().optional(),
  seq: z.int().positive(),
  ts: timestamp,
  id: MessageIdSchema.optional(),
})

/** The answer to a client `history` message: a page of the room's older messages, newest last. */
export const HistoryMessageSchema = z.object({
  type: z.literal('history'),
  room: RoomNameSchema,
  ref: RefSchema,
  /** The epoch the messages belong to: the room's current one. */
  epoch: EpochSchema,
  /** `message` frames as live delivery sends them, oldest first, each seq one above the one before. */
  messages: z.array(RoomEventMessageSchema),
  /** Older messages exist: ask again with `before` set to the first one's seq. */
  more: z.boolean(),
})

export const DirectEventMessageSchema = z.object({
  type: z.literal('direct'),
  event: EventNameSchema,
  data: z.unknown(),
  from: z.string(),
  ts: timestamp,
})

export const PresenceChangedMessageSchema = z.object({
  type: z.literal('presence'),
  room: RoomNameSchema,
  id: ConnectionIdSchema,
  state: z.unknown(),
})

export const AckMessageSchema = z.object({
  type: z.literal('ack'),
  ref: RefSchema,
  seq: z.int().positive().optional(),
})

export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  // A code from a newer server reads as `internal` rather than making the whole frame unreadable.
  code: z.enum(ERROR_CODES).catch('internal'),
  message: z.string(),
  ref,
  room: RoomNameSchema.optional(),
})

/** An application's refusal of a request, with a code the request declares in `errors`. */
export const ReplyErrorSchema = z.object({ code: ReplyErrorCodeSchema, message: z.string() })

/** The answer to a `request`: the handler's `output`, or its declared refusal in `error` (never both). */
export const ReplyMessageSchema = z
  .object({
    type: z.literal('reply'),
    ref: RefSchema,
    output: z.unknown().optional(),
    error: ReplyErrorSchema.optional(),
  })
  .refine((m) => m.error === undefined || m.output === undefined, {
    message: 'a reply carries output or error, not both',
    path: ['error'],
  })

export const PongMessageSchema = z.object({ type: z.literal('pong'), t: z.number().optional(), ref })

export const SystemMessageSchema = z.object({
  type: z.literal('system'),
  message: z.string(),
  code: z.string().optional(),
})

export const ResetMessageSchema = z.object({
  type: z.literal('reset'),
  room: RoomNameSchema,
  epoch: EpochSchema,
  seq: SeqSchema,
})

/** Every message a server may send, discriminated on `type`. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  WelcomeMessageSchema,
  JoinedMessageSchema,
  MembersMessageSchema,
  LeftMessageSchema,
  MemberJoinedMessageSchema,
  MemberLeftMessageSchema,
  MemberChangesMessageSchema,
  MemberCountMessageSchema,
  MembersPageMessageSchema,
  RoomEventMessageSchema,
  HistoryMessageSchema,
  DirectEventMessageSchema,
  PresenceChangedMessageSchema,
  AckMessageSchema,
  ErrorMessageSchema,
  PongMessageSchema,
  SystemMessageSchema,
  ResetMessageSchema,
  ReplyMessageSchema,
])

export type ServerMessage = z.infer<typeof ServerMessageSchema>
export type Member = z.infer<typeof MemberSchema>
export type Limits = z.infer<typeof LimitsSchema>
export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>
export type JoinedMessage = z.infer<typeof JoinedMessageSchema>
export type MembersMessage = z.infer<typeof MembersMessageSchema>
export type LeftMessage = z.infer<typeof LeftMessageSchema>
export type MemberJoinedMessage = z.infer<typeof MemberJoinedMessageSchema>
export type MemberLeftMessage = z.infer<typeof MemberLeftMessageSchema>
export type MemberChangesMessage = z.infer<typeof MemberChangesMessageSchema>
export type MemberCountMessage = z.infer<typeof MemberCountMessageSchema>
export type MembersPageMessage = z.infer<typeof MembersPageMessageSchema>
export type RoomEventMessage = z.infer<typeof RoomEventMessageSchema>
export type HistoryMessage = z.infer<typeof HistoryMessageSchema>
export type DirectEventMessage = z.infer<typeof DirectEventMessageSchema>
export type PresenceChangedMessage = z.infer<typeof PresenceChangedMessageSchema>
export type AckMessage = z.infer<typeof AckMessageSchema>
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>
export type PongMessage = z.infer<typeof PongMessageSchema>
export type SystemMessage = z.infer<typeof SystemMessageSchema>
export type ResetMessage = z.infer<typeof ResetMessageSchema>
export type ReplyMessage = z.infer<typeof ReplyMessageSchema>
export type ReplyError = z.infer<typeof ReplyErrorSchema>
/** The `type` of a server message. */
export type ServerMessageType = ServerMessage['type']
