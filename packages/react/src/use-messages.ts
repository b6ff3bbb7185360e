import { type RoomMessage, type RoomSnapshot, RoomwireError } from '@roomwire/client'
import type { EventData, EventInput, EventName, Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { useRoomHandle } from './use-room-handle'
import { useRoomSnapshot } from './use-room-snapshot'

/** Where a message in the list stands. Own messages go `sending` → `delivered` (acked) or `failed`. */
export type DeliveryStatus = 'sending' | 'delivered' | 'received' | 'failed'

/** One entry of {@link useMessages}' list. */
export interface ListedMessage<P extends Protocol = UntypedProtocol> {
  /** Stable React key. */
  key: string
  event: EventName<P>
  data: EventData<P, EventName<P>>
  /** The sender's connection id (`"server"` for server broadcasts); this connection's id for own messages. */
  from: string | null
  /** The room's sequence number; `null` while sending or after a failure. */
  seq: number | null
  ts: number
  own: boolean
  status: DeliveryStatus
  /** Why sending failed (`rate_limited`, `too_large`, …), for `failed` entries. */
  error?: RoomwireError
}

export interface UseMessagesOptions<P extends Protocol> {
  /** Keep at most this many messages (the newest). @default 100 */
  limit?: number
  /** Only list these events. @default every event */
  events?: readonly EventName<P>[]
}

export interface UseMessagesResult<P extends Protocol> {
  /** Oldest first: received and delivered messages in `seq` order, then failed and sending ones. */
  messages: ListedMessage<P>[]
  /** Publish and list a message; it shows as `sending`, then `delivered` or `failed`. Never rejects. */
  send: <K extends EventName<P>>(event: K, data: EventInput<P, K>) => Promise<void>
  /** Publish a failed message again. */
  retry: (key: string) => void
  /** Remove a failed message from the list. */
  dismiss: (key: string) => void
}

interface Failed<P extends Protocol> {
  entry: ListedMessage<P>
  input: unknown
}

/**
 * A bounded list of the recent messages in room `name` with their delivery state, for chat UIs.
 * Join with `history` (through {@link useRoom}) to start the list with the last messages.
 * @example
 * const { messages, send } = useMessages<typeof chat>('general', { limit: 200, events: ['chat'] })
 */
export function useMessages<P extends Protocol = UntypedProtocol>(
  name: string,
  options: UseMessagesOptions<P> = {},
): UseMessagesResult<P> {
  const { limit = 100, events } = options
  const room = useRoomHandle<P>(name)
  const [log, setLog] = useState<ListedMessage<P>[]>([])
  const [failed, setFailed] = useState<Failed<P>[]>([])
  const eventKey = events?.join('\u0000') ?? ''

  useEffect(() => {
    if (room === null) return
    const only = eventKey === '' ? null : new Set(eventKey.split('\u0000'))
    setLog([])
    return room.onMessage((message: RoomMessage<P>) => {
      if (only !== null && !only.has(message.event)) return
      const entry: ListedMessage<P> = {
        key: message.id ?? `seq:${message.seq}`,
        event: message.event,
        data: message.data,
        from: message.from,
        seq: message.seq,
        ts: message.ts,
        own: message.own,
        status: message.own ? 'delivered' : 'received',
      }
      setLog((prev) => {
        const next = prev.length >= limit ? prev.slice(prev.length - limit + 1) : prev.slice()
        next.push(entry)
        return next
      })
    })
  }, [room, eventKey, limit])

  const pending = useRoomSnapshot(name, room, (snapshot: RoomSnapshot<P>) => snapshot.pending)

  const publish = useCallback(
    async (event: EventName<P>, data: unknown, key: string) => {
      if (room === null) throw new RoomwireError('not_joined', `room "${name}" is not joined yet`)
      await room.publish(event, data as EventInput<P, typeof event>, { id: key })
    },
    [room, name],
  )

  const send = useCallback(
    async <K extends EventName<P>>(event: K, data: EventInput<P, K>) => {
      const key = newKey()
      try {
        await publish(event, data, key)
      } catch (cause) {
        const error =
          cause instanceof RoomwireError ? cause : new RoomwireError('internal', String(cause), { cause })
        setFailed((prev) => [
          ...prev,
          {
            input: data,
            entry: {
              key,
              event,
              data: data as EventData<P, K>,
              from: null,
              seq: null,
              ts: Date.now(),
              own: true,
              status: 'failed',
              error,
            },
          },
        ])
      }
    },
    [publish],
  )

  const dismiss = useCallback(
    (key: string) => setFailed((prev) => prev.filter((f) => f.entry.key !== key)),
    [],
  )
  const retry = useCallback(
    (key: string) => {
      const item = failed.find((f) => f.entry.key === key)
      if (item === undefined) return
      dismiss(key)
      void send(item.entry.event, item.input as EventInput<P, EventName<P>>)
    },
    [failed, dismiss, send],
  )

  const messages = useMemo(() => {
    const listed = new Set(log.map((m) => m.key))
    const sending: ListedMessage<P>[] = []
    for (const p of pending) {
      if (listed.has(p.id)) continue
      if (eventKey !== '' && !eventKey.split('\u0000').includes(p.event)) continue
      sending.push({
        key: p.id,
        event: p.event as EventName<P>,
        data: p.data as EventData<P, EventName<P>>,
        from: null,
        seq: null,
        ts: p.createdAt,
        own: true,
        status: 'sending',
      })
    }
    return [...log, ...failed.map((f) => f.entry), ...sending]
  }, [log, failed, pending, eventKey])

  return { messages, send, retry, dismiss }
}

let counter = 0
function newKey(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `m_${Date.now().toString(36)}${counter.toString(36)}${Math.random().toString(36).slice(2, 8)}`
}
