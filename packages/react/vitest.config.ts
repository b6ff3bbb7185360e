import { defineProject, mergeConfig } from 'vitest/config'
import { sourceResolution } from '../../vitest.shared.ts'

export default mergeConfig(
  sourceResolution,
  defineProject({
    test: {
      name: 'react',
      environment: 'happy-dom',
      include: ['test/**/*.test.{ts,tsx}'],
      execArgv: Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [],
    },
  }),
)
