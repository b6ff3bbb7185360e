import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'client',
      environment: 'node',
      include: ['test/**/*.test.ts'],
      // msw's WebSocket interceptor needs a global WebSocket, which Node 20 has only behind this flag.
      execArgv: ['--experimental-websocket'],
      restoreMocks: true,
    },
  }),
)
