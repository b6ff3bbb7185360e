import type { RoomwireError } from '@roomwire/client'
import { MAX_TEXT } from './protocol'

/** Say in words why the server (or the client) refused something. */
export function describeError(error: RoomwireError | null | undefined): string {
  if (!error) return ''
  switch (error.code) {
    case 'too_large':
      return 'it is too large for the server'
    case 'rate_limited':
      return 'you are sending too fast'
    case 'invalid_event':
      return /text/.test(error.message)
        ? `messages are 1 to ${MAX_TEXT.toLocaleString('en')} characters`
        : `the server refused it (${error.message})`
    case 'forbidden':
      return 'you are not allowed to do that here'
    case 'room_full':
      return 'the room is full'
    case 'too_many_rooms':
      return 'you have too many rooms open; leave one first'
    case 'not_joined':
      return 'you are not in this room yet'
    case 'unavailable':
      return 'the server cannot take messages right now'
    case 'timeout':
      return 'the server did not confirm it in time'
    case 'closed':
    case 'left':
      return 'the room was closed'
    case 'outbox_full':
      return 'too many messages are waiting for the connection'
    default:
      return error.message
  }
}

/**
 * Whether sending the same message again can succeed: not when the message itself was refused (its
 * content, its size, your rights). The composer keeps such messages from being sent in the first place.
 */
export function canRetry(error: RoomwireError | undefined): boolean {
  return !['invalid_event', 'too_large', 'forbidden', 'bad_request'].includes(error?.code ?? '')
}
