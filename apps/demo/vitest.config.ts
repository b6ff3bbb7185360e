import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'demo',
      environment: 'node',
      // Component tests (*.test.tsx) pick happy-dom in their first line; the e2e tests drive Chromium.
      include: ['test/**/*.test.{ts,tsx}'],
      testTimeout: 90_000,
      hookTimeout: 90_000,
    },
  }),
)
