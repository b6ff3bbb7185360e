import { defineConfig } from 'vitest/config'

// One run covers every package: each has its own vitest.config.ts (defineProject).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'bench', 'reliability'],
    // Test files print nothing unless something is wrong.
    silent: 'passed-only',
  },
})
