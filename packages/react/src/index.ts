export { useRoomwireClient } from './context'
export { RoomwireProvider, type RoomwireProviderProps } from './provider'
export { useConnectionStatus } from './use-connection-status'
export { useMemberCount } from './use-member-count'
export { useMembers } from './use-members'
export {
  type DeliveryStatus,
  type ListedMessage,
  type UseMessagesOptions,
  type UseMessagesResult,
  useMessages,
} from './use-messages'
export { usePresence } from './use-presence'
export { type UseRoomResult, useRoom } from './use-room'
export { useRoomEvent } from './use-room-event'
export { shallowEqual } from './use-selector'
