export { RoomwireTestError, type TestErrorCode } from './errors'
export { DEFAULT_NOTHING_MS, DEFAULT_TIMEOUT_MS, type NextOptions } from './event-queue'
export type { RawFrames, ServerFrame } from './raw-frames'
export { type ConnectOptions, TEST_CLIENT_DEFAULTS, type TestClient } from './test-client'
export type { RoomEvents, TestRoom } from './test-room'
export {
  createTestServer,
  type RestartOptions,
  type TestServer,
  type TestServerOptions,
} from './test-server'
