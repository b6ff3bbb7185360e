import type {
  JoinedMessage,
  MemberChangesMessage,
  MemberCountMessage,
  MembersMessage,
  Protocol,
  ResetMessage,
  RoomEventMessage,
  ServerMessage,
} from '@roomwire/protocol'
import type { ClientOutput } from './client-output'
import type { MemberFrame } from './members'
import type { Requests } from './requests'
import type { RoomRegistry } from './room-registry'
import type { ClientTransport } from './transport'

/** The server frames that concern one room: {@link routeFrame} hands them to the room they name. */
export type RoomFrame =
  | JoinedMessage
  | MembersMessage
  | RoomEventMessage
  | MemberFrame
  | MemberChangesMessage
  | MemberCountMessage
  | ResetMessage

/** Route a frame of the client's connection to the part it concerns; `bytes` is the frame's length. */
export function routeFrame<P extends Protocol>(
  message: ServerMessage,
  bytes: number,
  rooms: RoomRegistry<P>,
  calls: Requests,
  transport: ClientTransport,
  output: ClientOutput,
): void {
  switch (message.type) {
    case 'joined':
    case 'members':
    case 'message':
    case 'member_joined':
    case 'member_left':
    case 'member_changes':
    case 'member_count':
    case 'presence':
    case 'reset':
      rooms.receive(message, bytes)
      return
    case 'reply':
      calls.receive(message)
      return
    case 'ack':
    case 'error':
    case 'history':
    case 'members_page':
    case 'left': {
      // A request's refusal carries one of its string refs; every other answer goes to the transport.
      if (message.type === 'error' && calls.refused(message)) return
      const unanswered = transport.answer(message)
      if (unanswered !== undefined) output.report(unanswered)
      return
    }
    case 'direct':
      output.directs.emit(message.event, message.data, { from: message.from, ts: message.ts })
      return
    // A notice (`shutdown` among them) changes nothing the client keeps: the close that follows is
    // handled by its code, and what a restart cost is told by the next `joined` (PROTOCOL.md).
    case 'system':
    case 'pong':
    case 'welcome':
      return
  }
}
