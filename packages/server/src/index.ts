export type {
  AdapterConfig,
  AdapterNode,
  AdapterRoomInfo,
  AdapterStats,
  ConnectionTarget,
  DeliverOptions,
  HistoryPageResult,
  HistoryRequest,
  JoinResult,
  PublishInput,
  PublishResult,
  ReplayRequest,
  RoomAdapter,
  RoomBroadcast,
} from './adapter'
export { extractToken, jwtAuthenticate, redactUrl } from './auth'
export type { Clock, TimerHandle } from './clock'
export { newEpoch } from './epoch'
export { isRoomServerError, RoomServerError, type RoomServerErrorCode } from './errors'
export { HistoryRing, type SinceResult } from './history'
export type {
  HistoryPage,
  HistoryStore,
  PageRequest,
  RoomHead,
  StoredMessage,
  StoreRefusal,
} from './history-store'
export type {
  AnyProtocol,
  AuthorizeRequest,
  AuthResult,
  ConnectionInfo,
  PublishContext,
  PublishDecision,
} from './hooks'
export { DEFAULT_LIMITS, type ResolvedLimits } from './limits'
export {
  createMemoryAdapter,
  DEFAULT_MEMORY_ADAPTER_OPTIONS,
  type MemoryAdapterOptions,
} from './memory-adapter'
export type { AuthOptions, RoomServerOptions } from './options'
export { isRequestError, RequestError, RequestRefusal } from './request-error'
export type { RequestContext, RequestHandler, RequestHandlers } from './request-types'
export { type CloseOptions, createRoomServer, type RoomInfo, type RoomServer } from './room-server'
export type { RoomPersistence, RoomSnapshot } from './room-snapshot'
export type { MemberInfo } from './server-api'
export { fileState } from './state-file'
