import type {
  MessageLog,
  MessageLogEntry,
  MessageLogOptions,
  OlderMessages,
  RoomwireError,
} from '@roomwire/client'
import type { EventInput, EventName, Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import { useRoomHandle } from './use-room-handle'

export type { DeliveryStatus } from '@roomwire/client'

/**
 * One entry of {@link useMessages}' list: a frozen entry of the room's message log, a union by `event`
 * (`m.event === 'chat'` narrows `m.data`) and by `status`. `E` is the events the list shows.
 */
export type ListedMessage<
  P extends Protocol = UntypedProtocol,
  E extends EventName<P> = EventName<P>,
> = MessageLogEntry<P, E>

/** Options of {@link useMessages}: with a narrowed `E`, `events` is required and lists only those. */
export type UseMessagesOptions<P extends Protocol, E extends EventName<P> = EventName<P>> = MessageLogOptions<
  P,
  E
>

export interface UseMessagesResult<P extends Protocol, E extends EventName<P> = EventName<P>> {
  /** Oldest first: received and delivered messages in `seq` order, then failed and sending ones. */
  messages: readonly ListedMessage<P, E>[]
  /** Publish and list a message; it shows as `sending`, then `delivered` or `failed`. Never rejects. */
  send: <K extends EventName<P>>(event: K, data: EventInput<P, K>) => Promise<void>
  /** Publish a failed message again. */
  retry: (key: string) => void
  /** Remove a failed message from the list. */
  dismiss: (key: string) => void
  /**
   * Load the page before the oldest listed message (`room.history()`) into the same list, without
   * duplicates, keys unchanged. Never rejects: see `olderError`.
   */
  loadOlder: () => Promise<void>
  /** Older messages may exist (false once the server said there are none). */
  hasOlder: boolean
  /** A page is being loaded. */
  loadingOlder: boolean
  /** Why the last page could not be loaded, until one is. */
  olderError: RoomwireError | null
}

const none: readonly never[] = Object.freeze([])
const noSnapshot = () => none
const noOlder: OlderMessages = Object.freeze({ hasOlder: false, loadingOlder: false, error: null })
const noOlderSnapshot = () => noOlder
const noSubscribe = () => () => {}

/**
 * A bounded list of the recent messages in room `name` with their delivery state, for chat UIs: the
 * room's {@link MessageLog} through `useSyncExternalStore`. The log records from the room's `joined`,
 * so a list that mounts after the join (or a render after it) still shows the history it replayed.
 * Join with `history` (through {@link useRoom}) to start the list with the last messages.
 * @example
 * const { messages, send } = useMessages<typeof chat>('general', { limit: 200 })
 * messages.map((m) => (m.event === 'chat' ? m.data.text : null))
 */
export function useMessages<P extends Protocol = UntypedProtocol>(
  name: string,
  options?: UseMessagesOptions<P>,
): UseMessagesResult<P>
/**
 * The same, listing only the events `E` (TypeScript cannot infer `E` beside an explicit `P`, so it is
 * named, and `events` must list it).
 * @example
 * const { messages } = useMessages<typeof chat, 'chat'>('general', { events: ['chat'] })
 * messages.map((m) => m.data.text)
 */
export function useMessages<P extends Protocol, E extends EventName<P>>(
  name: string,
  options: UseMessagesOptions<P, E>,
): UseMessagesResult<P, E>
export function useMessages<P extends Protocol>(
  name: string,
  options: { limit?: number; events?: readonly string[] } = {},
): UseMessagesResult<P> {
  const room = useRoomHandle<P>(name)
  const limit = options.limit
  // A new array of the same events each render must not make a new log.
  const eventKey = options.events?.join('\u0000')
  const log: MessageLog<P> | null = useMemo(() => {
    if (room === null) return null
    const events = eventKey ? (eventKey.split('\u0000') as EventName<P>[]) : undefined
    return room.messageLog({
      ...(limit === undefined ? {} : { limit }),
      ...(events === undefined ? {} : { events }),
    } as MessageLogOptions<P>)
  }, [room, limit, eventKey])
  const messages = useSyncExternalStore(
    log?.subscribe ?? noSubscribe,
    log?.getSnapshot ?? noSnapshot,
    noSnapshot,
  )
  // Before the first effect there is no room handle yet (nothing can be clicked before it either).
  const send = useCallback(
    <K extends EventName<P>>(event: K, data: EventInput<P, K>) => log?.send(event, data) ?? Promise.resolve(),
    [log],
  )
  const retry = useCallback((key: string) => log?.retry(key), [log])
  const dismiss = useCallback((key: string) => log?.dismiss(key), [log])
  const older = useSyncExternalStore(
    log?.subscribe ?? noSubscribe,
    log?.getOlder ?? noOlderSnapshot,
    noOlderSnapshot,
  )
  const loadOlder = useCallback(() => log?.loadOlder() ?? Promise.resolve(), [log])
  return {
    messages,
    send,
    retry,
    dismiss,
    loadOlder,
    hasOlder: older.hasOlder,
    loadingOlder: older.loadingOlder,
    olderError: older.error,
  }
}
