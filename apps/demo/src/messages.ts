import type { ListedMessage } from '@roomwire/react'
import type { Chat, Person } from './protocol'

/** A chat message as the demo lists it. */
export type ChatMessage = ListedMessage<Chat>

/**
 * Who wrote a message: the author it carries. The server validates every publish against the protocol, so
 * only history older than the protocol (a persistent store) can lack one.
 */
export function authorOf(message: ChatMessage): Person | null {
  return (message.data as { author?: Person }).author ?? null
}

/** Written by this person: in this session (`own`), or in an earlier one (a reload, another tab). */
export function isMine(message: ChatMessage, selfUid: string): boolean {
  return message.own || authorOf(message)?.uid === selfUid
}
