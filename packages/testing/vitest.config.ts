import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'testing',
      environment: 'node',
      include: ['test/**/*.test.{ts,tsx}'],
    },
  }),
)
