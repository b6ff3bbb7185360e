import type { RoomwireError } from '@roomwire/client'
import { MAX_TEXT } from './protocol'

/** Say in words why the server (or the client) refused something. */
export function describeError(error: RoomwireError | null | undefined): string {
  if (!error) return ''
  switch (error.code) {
    case 'too_large':
      return 'That message is too large for the server.'
    case 'rate_limited':
      return 'You are sending too fast. Wait a moment and try again.'
    case 'invalid_event':
      return /text/.test(error.message)
        ? `Messages must be 1 to ${MAX_TEXT} characters.`
        : `The server refused it: ${error.message}`
    case 'forbidden':
      return 'You are not allowed to do that here.'
    case 'room_full':
      return 'This room is full.'
    case 'too_many_rooms':
      return 'You have too many rooms open. Leave one first.'
    case 'not_joined':
      return 'You are not in this room (yet).'
    case 'unavailable':
      return 'The server cannot take messages right now. Try again in a moment.'
    case 'timeout':
      return 'The server did not confirm in time.'
    case 'closed':
      return 'The connection was closed.'
    case 'outbox_full':
      return 'Too many messages are waiting for the connection to come back.'
    default:
      return error.message
  }
}
