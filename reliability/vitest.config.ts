import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'reliability',
      environment: 'node',
      include: ['test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 60_000,
    },
  }),
)
