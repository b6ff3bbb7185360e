export { backoffDelay, type ReconnectOptions, reconnectDefaults } from './backoff'
export { createClient } from './client'
export { type Clock, systemClock, type TimerHandle } from './clock'
export { RoomwireError, type RoomwireErrorCode } from './errors'
export type {
  Client,
  ClientEvents,
  ClientOptions,
  ClientSnapshot,
  ClientStatus,
  DeliveryStatus,
  DirectMeta,
  HeartbeatOptions,
  HoldOptions,
  JoinOptions,
  Logger,
  Member,
  MessageLog,
  MessageLogEntry,
  MessageLogOptions,
  MessageMeta,
  OutboxOptions,
  PendingPublish,
  PublishOptions,
  PublishResult,
  ResyncInfo,
  Room,
  RoomLifecycleEvents,
  RoomMessage,
  RoomSnapshot,
  RoomStatus,
  TokenProvider,
} from './types'
export type { WebSocketConstructor, WebSocketLike } from './web-socket'
