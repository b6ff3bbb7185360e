export type {
  AdapterConfig,
  AdapterNode,
  AdapterRoomInfo,
  AdapterStats,
  ConnectionTarget,
  DeliverOptions,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
  RoomBroadcast,
} from './adapter'
export { extractToken, redactUrl } from './auth'
export { type Clock, systemClock, type TimerHandle } from './clock'
export { RoomServerError, type RoomServerErrorCode } from './errors'
export { HistoryRing, type SinceResult } from './history'
export {
  createMemoryAdapter,
  DEFAULT_MEMORY_ADAPTER_OPTIONS,
  type MemoryAdapterOptions,
  newEpoch,
} from './memory-adapter'
export {
  type AuthOptions,
  type AuthorizeRequest,
  type AuthResult,
  type ConnectionInfo,
  DEFAULT_LIMITS,
  type PublishContext,
  type PublishDecision,
  type ResolvedLimits,
  type RoomServerOptions,
} from './options'
export { type CloseOptions, createRoomServer, type RoomInfo, type RoomServer } from './room-server'
export type { RoomPersistence, RoomSnapshot } from './room-snapshot'
export { fileState } from './state-file'
