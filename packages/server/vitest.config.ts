import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'server',
      environment: 'node',
      include: ['test/**/*.test.ts'],
      testTimeout: 15_000,
      hookTimeout: 15_000,
    },
  }),
)
