import { defineConfig } from 'vitest/config'

// One run covers every package: each has its own vitest.config.ts (defineProject).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'bench', 'reliability', 'scripts'],
    // Redis, PostgreSQL and Chromium, found, started or installed before any test (scripts/test-setup.ts).
    globalSetup: ['scripts/test-setup.ts'],
    // Test files print nothing unless something is wrong.
    silent: 'passed-only',
  },
})
