import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'bench',
      environment: 'node',
      include: ['test/**/*.test.ts'],
      // The smoke test spawns server and load-generator processes; give it room on a busy 2-core machine.
      testTimeout: 60_000,
    },
  }),
)
