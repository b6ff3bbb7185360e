import * as z from 'zod'
import {
  EVENT_NAME_PATTERN,
  EVENT_NAME_RULE,
  idRule,
  isRef,
  isStorableText,
  MAX_ID_LENGTH,
  MAX_NESTING_DEPTH,
  REF_RULE,
  ROOM_NAME_PATTERN,
  ROOM_NAME_RULE,
  SEQ_RULE,
  STORED_ID_RULE,
} from './name-rules'
import { nestsDeeperThan } from './nesting'

export const RoomNameSchema = z.string().regex(ROOM_NAME_PATTERN, ROOM_NAME_RULE)

export const EventNameSchema = z.string().regex(EVENT_NAME_PATTERN, EVENT_NAME_RULE)

const idString = (what: string) => z.string().min(1, idRule(what)).max(MAX_ID_LENGTH, idRule(what))

/** A client-chosen correlation id: a string of 1 to 64 characters or a safe integer. */
export const RefSchema = z.custom<string | number>(isRef, { error: REF_RULE })

/** An opaque connection id, unique for the life of the cluster. */
export const ConnectionIdSchema = idString('a connection id')

/** A client-chosen message id used to dedupe retried publishes. */
export const MessageIdSchema = idString('a message id')

/** A message id as a `publish` may carry it: also text every store keeps exactly (see isStorableText). */
export const PublishIdSchema = MessageIdSchema.refine(isStorableText, STORED_ID_RULE)

/** A client-chosen request id, stable across resends, that the server dedupes idempotent requests on. */
export const RequestIdSchema = idString('a request id')

/** Request names: 1 to 64 characters of `A-Z a-z 0-9 _ - . :`, like event names. */
export const RequestNameSchema = z.string().regex(EVENT_NAME_PATTERN, EVENT_NAME_RULE)

/** An application's refusal code in a `reply`: 1 to 64 characters of `A-Z a-z 0-9 _ - . :`. */
export const ReplyErrorCodeSchema = z.string().regex(EVENT_NAME_PATTERN, EVENT_NAME_RULE)

/** An opaque name for one unbroken run of a room's `seq`. */
export const EpochSchema = idString('an epoch')

/** A room's sequence number: 0 before the first message, then 1, 2, 3, … */
export const SeqSchema = z.int({ error: SEQ_RULE }).min(0, SEQ_RULE)

/** Any JSON value (`null` included) that is present and nests at most {@link MAX_NESTING_DEPTH} levels. */
export const PayloadSchema = z
  .unknown()
  .refine((value) => value !== undefined, 'is required')
  .refine(
    (value) => !nestsDeeperThan(value, MAX_NESTING_DEPTH),
    `must not nest more than ${MAX_NESTING_DEPTH} levels deep`,
  )
