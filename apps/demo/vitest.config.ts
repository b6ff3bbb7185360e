import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'demo',
      environment: 'node',
      include: ['test/**/*.test.ts'],
      testTimeout: 90_000,
      hookTimeout: 90_000,
    },
  }),
)
