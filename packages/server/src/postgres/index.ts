export type {
  HistoryPage,
  HistoryStore,
  PageRequest,
  RoomHead,
  StoredMessage,
  StoreRefusal,
} from '../history-store'
export {
  createPostgresHistory,
  type PostgresHistory,
  type PostgresHistoryOptions,
  type PostgresPool,
} from './postgres-history'
export type { RetentionOptions } from './retention'
