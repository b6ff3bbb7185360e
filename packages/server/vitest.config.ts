import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'server',
      environment: 'node',
      include: ['test/**/*.test.ts'],
      // The leak check compares heap sizes after forced collections.
      execArgv: ['--expose-gc'],
      testTimeout: 15_000,
      hookTimeout: 15_000,
    },
  }),
)
