import { useMessages, useRoom } from '@roomwire/react'
import { useEffect, useMemo, useState } from 'react'
import { Composer } from './composer'
import { describeError } from './errors'
import { MessageList } from './message-list'
import type { Chat, Person } from './protocol'
import { ResyncNotice } from './resync-notice'
import { RoomHeader } from './room-header'
import { TypingIndicator } from './typing-indicator'
import { useOwnPresence } from './use-own-presence'
import { useResync } from './use-resync'
import { useRoster } from './use-roster'
import { useUnread } from './use-unread'

/** Past messages a first join replays (the server clamps it to its history size); older ones page in. */
const HISTORY = 30

interface ChatRoomProps {
  room: string
  me: Person
  active: boolean
  /** The connection is open (the room's own status says whether it is joined on it). */
  online: boolean
  unreadElsewhere: number
  onUnread: (room: string, count: number) => void
  /** Whether the room is joined now; false once it unmounts. */
  onJoined?: (room: string, joined: boolean) => void
  onMenu: () => void
}

/** One room: its people, its messages and a composer. Rooms stay mounted while hidden, drafts and all. */
export function ChatRoom(props: ChatRoomProps) {
  const { room, me, active, online, unreadElsewhere, onUnread, onJoined, onMenu } = props
  const joined = useRoom<Chat>(room, { presence: me, history: HISTORY })
  const [typing, setTyping] = useState(false)
  const presence = useMemo(() => ({ ...me, typing }), [me, typing])
  useOwnPresence(joined, presence)
  const { messages, send, retry, dismiss, loadOlder, hasOlder, loadingOlder, olderError } = useMessages<Chat>(
    room,
    { limit: 200, events: ['chat'] },
  )
  const roster = useRoster(joined.members, me.uid, joined.status === 'joined')
  const resync = useResync(joined.room, messages)
  const isJoined = joined.status === 'joined'
  const { unread, dividerBefore } = useUnread(room, messages, active, isJoined, me.uid)
  useEffect(() => onUnread(room, unread), [room, unread, onUnread])
  useEffect(() => {
    onJoined?.(room, isJoined)
    return () => onJoined?.(room, false)
  }, [room, isJoined, onJoined])
  const typers = roster.entries.filter((e) => e.typing && !e.self).map((e) => e.name)

  return (
    <section className="room" hidden={!active} aria-label={`Room ${room}`}>
      <RoomHeader
        room={room}
        entries={roster.entries}
        online={roster.online}
        status={joined.status}
        onMenu={onMenu}
        unreadElsewhere={unreadElsewhere}
      />
      {joined.status === 'error' && (
        <p className="notice bad" role="alert">
          Could not join #{room}: {describeError(joined.error)}.
        </p>
      )}
      {resync.notice && <ResyncNotice info={resync.notice} onDismiss={resync.dismiss} />}
      <MessageList
        room={room}
        status={joined.status}
        messages={messages}
        selfUid={me.uid}
        selfName={me.name}
        names={roster.byUid}
        dividerBefore={dividerBefore}
        gapsAfter={resync.gapsAfter}
        visible={active}
        offline={!online}
        onRetry={retry}
        onDismiss={dismiss}
        hasOlder={hasOlder}
        loadingOlder={loadingOlder}
        olderFailed={olderError !== null}
        onLoadOlder={loadOlder}
      />
      <TypingIndicator names={typers} />
      <Composer
        room={room}
        active={active}
        onSend={(text) => void send('chat', { text, author: me })}
        onTyping={setTyping}
      />
    </section>
  )
}
