export { backoffDelay, type ReconnectOptions, reconnectDefaults } from './backoff'
export { createClient } from './client'
export type {
  ClientOptions,
  HeartbeatOptions,
  HoldOptions,
  Logger,
  OutboxOptions,
  TokenProvider,
} from './client-options'
export { type Clock, systemClock, type TimerHandle } from './clock'
export {
  type ApplicationErrorCode,
  isRetryable,
  isRoomwireError,
  RoomwireError,
  type RoomwireErrorCode,
} from './errors'
export type {
  DeliveryStatus,
  MessageLog,
  MessageLogEntry,
  MessageLogOptions,
  OlderMessages,
} from './message-log-types'
export type { RequestArgs, RequestOptions } from './requests'
export type {
  AnyProtocol,
  HistoryOptions,
  HistoryPage,
  JoinOptions,
  Member,
  MembersPage,
  MembersPageOptions,
  MessageMeta,
  PendingPublish,
  PublishOptions,
  PublishResult,
  ResyncInfo,
  Room,
  RoomLifecycleEvents,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
} from './room-types'
export type { Client, ClientEvents, ClientSnapshot, ClientStatus, DirectMeta } from './types'
export type { WebSocketConstructor, WebSocketLike } from './web-socket'
